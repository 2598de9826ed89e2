/**
 * The client's requests into the wire's messages and the wire's messages into its responses.
 * The message types are generated from proto/ (proto/gen): a request is built as the input type
 * protobufjs encodes (`XIn`), and a decoded response is read as one too (its values are what
 * protobufjs's decode() gives: Longs or numbers, Buffers; see wire.ts for the conversions).
 * Only fields that differ from their defaults go on the wire, as proto3 encoders do.
 */
import type * as pb from '../../proto/gen/index.js';
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  LockResponse,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchEvent,
  WatchResponse,
} from './types.js';
import { bufferOf, fromBigInt, toBigInt, toBuffer, toNumber, type Bytes } from './wire.js';

// ---- encoding ------------------------------------------------------------------------------

const SORT_TARGET: Record<SortTarget, pb._etcdserverpb_RangeRequest_SortTarget> = { key: 0, version: 1, create: 2, mod: 3, value: 4 };
const SORT_ORDER: Record<SortOrder, pb._etcdserverpb_RangeRequest_SortOrder> = { none: 0, ascend: 1, descend: 2 };
const COMPARE_RESULT: Record<CompareResult, pb._etcdserverpb_Compare_CompareResult> = { '=': 0, '>': 1, '<': 2, '!=': 3 };
const COMPARE_TARGET: Record<CompareTarget, pb._etcdserverpb_Compare_CompareTarget> = { version: 0, create: 1, mod: 2, value: 3, lease: 4 };
const FILTER: Record<'noPut' | 'noDelete', pb._etcdserverpb_WatchCreateRequest_FilterType> = { noPut: 0, noDelete: 1 };

/** The value for a field, or undefined (left out) when it is its default. */
const bytes = (b: Bytes | undefined): Buffer | undefined => (b === undefined || b.length === 0 ? undefined : toBuffer(b));
const num = <N extends number>(n: N | undefined): N | undefined => (n === undefined || n === 0 ? undefined : n);
const flag = (f: boolean | undefined): true | undefined => (f === true ? true : undefined);
const id = (v: bigint | undefined): string | undefined => (v === undefined || v === 0n ? undefined : fromBigInt(v));

/** A message with its default fields still there, as undefined. */
type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/**
 * The message without its undefined fields: encode() writes only what is present. A new object
 * rather than `delete` (which would put every request on V8's slow dictionary path).
 */
function present<T extends object>(m: Loose<T>): T {
  const out: Partial<T> = {};
  for (const k in m) if (m[k] !== undefined) out[k] = m[k] as T[typeof k];
  return out as T;
}

export function encodeRange(r: RangeRequest): pb.RangeRequestIn {
  return present<pb.RangeRequestIn>({
    key: toBuffer(r.key),
    range_end: bytes(r.rangeEnd),
    limit: num(r.limit),
    revision: num(r.revision),
    sort_order: r.sort ? num(SORT_ORDER[r.sort.order]) : undefined,
    sort_target: r.sort ? num(SORT_TARGET[r.sort.target]) : undefined,
    serializable: flag(r.serializable),
    keys_only: flag(r.keysOnly),
    count_only: flag(r.countOnly),
    min_mod_revision: num(r.minModRevision),
    max_mod_revision: num(r.maxModRevision),
    min_create_revision: num(r.minCreateRevision),
    max_create_revision: num(r.maxCreateRevision),
  });
}

export function encodePut(r: PutRequest): pb.PutRequestIn {
  return present<pb.PutRequestIn>({
    key: toBuffer(r.key),
    value: bytes(r.value),
    lease: id(r.lease),
    prev_kv: flag(r.prevKv),
    ignore_value: flag(r.ignoreValue),
    ignore_lease: flag(r.ignoreLease),
  });
}

export function encodeDeleteRange(r: DeleteRangeRequest): pb.DeleteRangeRequestIn {
  return present<pb.DeleteRangeRequestIn>({ key: toBuffer(r.key), range_end: bytes(r.rangeEnd), prev_kv: flag(r.prevKv) });
}

function encodeCompare(c: Compare): pb.CompareIn {
  const m: pb.CompareIn = present<pb.CompareIn>({ key: toBuffer(c.key), result: COMPARE_RESULT[c.result], target: COMPARE_TARGET[c.target], range_end: bytes(c.rangeEnd) });
  // The operand is always sent, zero included: the oneof member must be present to be compared.
  switch (c.target) {
    case 'value':
      return { ...m, value: toBuffer(c.value) };
    case 'version':
      return { ...m, version: c.value };
    case 'create':
      return { ...m, create_revision: c.value };
    case 'mod':
      return { ...m, mod_revision: c.value };
    case 'lease':
      return { ...m, lease: fromBigInt(c.value) };
  }
}

function encodeOp(op: RequestOp): pb.RequestOpIn {
  if ('range' in op) return { request_range: encodeRange(op.range) };
  if ('put' in op) return { request_put: encodePut(op.put) };
  if ('deleteRange' in op) return { request_delete_range: encodeDeleteRange(op.deleteRange) };
  return { request_txn: encodeTxn(op.txn) };
}

export function encodeTxn(t: TxnRequest): pb.TxnRequestIn {
  return {
    compare: (t.compare ?? []).map(encodeCompare),
    success: (t.success ?? []).map(encodeOp),
    failure: (t.failure ?? []).map(encodeOp),
  };
}

/** True when no branch of the txn (nested ones included) writes: its failure is then definite. */
export function txnIsReadOnly(t: TxnRequest): boolean {
  const opReadOnly = (op: RequestOp): boolean => 'range' in op || ('txn' in op && txnIsReadOnly(op.txn));
  return (t.success ?? []).every(opReadOnly) && (t.failure ?? []).every(opReadOnly);
}

export function encodeWatchCreate(r: WatchCreateRequest): pb.WatchCreateRequestIn {
  return present<pb.WatchCreateRequestIn>({
    key: toBuffer(r.key),
    range_end: bytes(r.rangeEnd),
    start_revision: num(r.startRevision),
    progress_notify: flag(r.progressNotify),
    filters: r.filters && r.filters.length > 0 ? r.filters.map((f) => FILTER[f]) : undefined,
    prev_kv: flag(r.prevKv),
    watch_id: num(r.watchId),
    fragment: flag(r.fragment),
  });
}

// ---- decoding ------------------------------------------------------------------------------

const EMPTY_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };

export function decodeHeader(h: pb.ResponseHeaderIn | null | undefined): ResponseHeader {
  if (h === null || h === undefined) return EMPTY_HEADER;
  return { clusterId: toBigInt(h.cluster_id), memberId: toBigInt(h.member_id), revision: toNumber(h.revision), raftTerm: toNumber(h.raft_term) };
}

export function decodeKv(kv: pb.KeyValueIn): KeyValue {
  return {
    key: bufferOf(kv.key),
    value: bufferOf(kv.value),
    createRevision: toNumber(kv.create_revision),
    modRevision: toNumber(kv.mod_revision),
    version: toNumber(kv.version),
    lease: toBigInt(kv.lease),
  };
}

const optionalKv = (kv: pb.KeyValueIn | null | undefined): KeyValue | undefined => (kv === null || kv === undefined ? undefined : decodeKv(kv));
const str = (s: string | undefined): string => (typeof s === 'string' ? s : '');

export function decodeRange(d: pb.RangeResponseIn): RangeResponse {
  return { header: decodeHeader(d.header), kvs: (d.kvs ?? []).map(decodeKv), more: d.more === true, count: toNumber(d.count) };
}

export function decodePut(d: pb.PutResponseIn): PutResponse {
  return { header: decodeHeader(d.header), prevKv: optionalKv(d.prev_kv) };
}

export function decodeDeleteRange(d: pb.DeleteRangeResponseIn): DeleteRangeResponse {
  return { header: decodeHeader(d.header), deleted: toNumber(d.deleted), prevKvs: (d.prev_kvs ?? []).map(decodeKv) };
}

function decodeResponseOp(op: pb.ResponseOpIn): ResponseOp {
  if (op.response_range) return { range: decodeRange(op.response_range) };
  if (op.response_put) return { put: decodePut(op.response_put) };
  if (op.response_delete_range) return { deleteRange: decodeDeleteRange(op.response_delete_range) };
  if (op.response_txn) return { txn: decodeTxn(op.response_txn) };
  throw new Error('txn response op with no response set');
}

export function decodeTxn(d: pb.TxnResponseIn): TxnResponse {
  return { header: decodeHeader(d.header), succeeded: d.succeeded === true, responses: (d.responses ?? []).map(decodeResponseOp) };
}

function decodeEvent(e: pb.EventIn): WatchEvent {
  return { type: e.type === 1 || e.type === 'DELETE' ? 'delete' : 'put', kv: decodeKv(e.kv ?? {}), prevKv: optionalKv(e.prev_kv) };
}

export function decodeWatch(d: pb.WatchResponseIn): WatchResponse {
  return {
    header: decodeHeader(d.header),
    watchId: toNumber(d.watch_id),
    created: d.created === true,
    canceled: d.canceled === true,
    compactRevision: toNumber(d.compact_revision),
    cancelReason: str(d.cancel_reason),
    fragment: d.fragment === true,
    events: (d.events ?? []).map(decodeEvent),
  };
}

export function decodeLeaseGrant(d: pb.LeaseGrantResponseIn): LeaseGrantResponse {
  return { header: decodeHeader(d.header), id: toBigInt(d.ID), ttl: toNumber(d.TTL), error: str(d.error) };
}

export function decodeLeaseKeepAlive(d: pb.LeaseKeepAliveResponseIn): LeaseKeepAliveResponse {
  return { header: decodeHeader(d.header), id: toBigInt(d.ID), ttl: toNumber(d.TTL) };
}

export function decodeLeaseTimeToLive(d: pb.LeaseTimeToLiveResponseIn): LeaseTimeToLiveResponse {
  return { header: decodeHeader(d.header), id: toBigInt(d.ID), ttl: toNumber(d.TTL), grantedTtl: toNumber(d.grantedTTL), keys: (d.keys ?? []).map(bufferOf) };
}

export function decodeLeaseLeases(d: pb.LeaseLeasesResponseIn): LeaseLeasesResponse {
  return { header: decodeHeader(d.header), leases: (d.leases ?? []).map((l) => toBigInt(l.ID)) };
}

export function decodeStatus(d: pb.StatusResponseIn): StatusResponse {
  return {
    header: decodeHeader(d.header),
    version: str(d.version),
    dbSize: toNumber(d.dbSize),
    leader: toBigInt(d.leader),
    raftIndex: toNumber(d.raftIndex),
    raftTerm: toNumber(d.raftTerm),
    raftAppliedIndex: toNumber(d.raftAppliedIndex),
    errors: (d.errors ?? []).map(String),
    dbSizeInUse: toNumber(d.dbSizeInUse),
    isLearner: d.isLearner === true,
  };
}

export function decodeMemberList(d: pb.MemberListResponseIn): MemberListResponse {
  return {
    header: decodeHeader(d.header),
    members: (d.members ?? []).map((m) => ({
      id: toBigInt(m.ID),
      name: str(m.name),
      peerUrls: (m.peerURLs ?? []).map(String),
      clientUrls: (m.clientURLs ?? []).map(String),
      isLearner: m.isLearner === true,
    })),
  };
}

export function decodeLock(d: pb.LockResponseIn): LockResponse {
  return { header: decodeHeader(d.header), key: bufferOf(d.key) };
}
