/**
 * The client's request and response shapes, and their conversion to and from protobufjs
 * messages. Keys and values are Buffers out (strings or Uint8Arrays in); revisions, versions and
 * counts are numbers; lease, member and cluster ids are bigints.
 */
import { bufferOf, fromBigInt, toBigInt, toBuffer, toNumber, type Bytes, type Decoded } from './wire.js';

export type { Bytes } from './wire.js';

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly revision: number;
  readonly raftTerm: number;
}

export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: bigint;
}

// ---- requests ------------------------------------------------------------------------------

export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';
export type SortOrder = 'none' | 'ascend' | 'descend';

export interface RangeRequest {
  readonly key: Bytes;
  /** Empty or absent: just key. "\0": every key >= key. Otherwise [key, rangeEnd). */
  readonly rangeEnd?: Bytes;
  readonly limit?: number;
  /** <= 0 or absent: the current revision. */
  readonly revision?: number;
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly sort?: { readonly target: SortTarget; readonly order: SortOrder };
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface PutRequest {
  readonly key: Bytes;
  readonly value?: Bytes;
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  readonly ignoreValue?: boolean;
  readonly ignoreLease?: boolean;
}

export interface DeleteRangeRequest {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly prevKv?: boolean;
}

export type CompareTarget = 'value' | 'version' | 'create' | 'mod' | 'lease';
export type CompareResult = '=' | '!=' | '>' | '<';

/** `target` names the operand's type: bytes for 'value', a bigint for 'lease', numbers otherwise. */
export type Compare = {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly result: CompareResult;
} & (
  | { readonly target: 'value'; readonly value: Bytes }
  | { readonly target: 'version' | 'create' | 'mod'; readonly value: number }
  | { readonly target: 'lease'; readonly value: bigint }
);

export type RequestOp =
  | { readonly range: RangeRequest }
  | { readonly put: PutRequest }
  | { readonly deleteRange: DeleteRangeRequest }
  | { readonly txn: TxnRequest };

export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly RequestOp[];
  readonly failure?: readonly RequestOp[];
}

export interface WatchCreateRequest {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  /** Replay from this revision (inclusive); 0 or absent: from now on. */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  readonly filters?: readonly ('noPut' | 'noDelete')[];
  readonly progressNotify?: boolean;
  /** 0 or absent: the server picks the id. */
  readonly watchId?: number;
  readonly fragment?: boolean;
}

// ---- responses -----------------------------------------------------------------------------

export interface RangeResponse {
  readonly header: ResponseHeader;
  readonly kvs: KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  readonly prevKv: KeyValue | undefined;
}

export interface DeleteRangeResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: KeyValue[];
}

export type ResponseOp =
  | { readonly range: RangeResponse }
  | { readonly put: PutResponse }
  | { readonly deleteRange: DeleteRangeResponse }
  | { readonly txn: TxnResponse };

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
}

export interface CompactResponse {
  readonly header: ResponseHeader;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  /** Only when the watcher asked for prevKv and the key existed before. */
  readonly prevKv: KeyValue | undefined;
}

export interface WatchResponse {
  readonly header: ResponseHeader;
  readonly watchId: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  readonly fragment: boolean;
  readonly events: WatchEvent[];
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  readonly ttl: number;
  readonly error: string;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** The renewed TTL in seconds; <= 0 when the lease does not exist. */
  readonly ttl: number;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** Remaining seconds; -1 when the lease does not exist. */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: Buffer[];
}

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader;
  readonly leases: bigint[];
}

export interface StatusResponse {
  readonly header: ResponseHeader;
  readonly version: string;
  readonly dbSize: number;
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly errors: string[];
  readonly dbSizeInUse: number;
  readonly isLearner: boolean;
}

export interface LockResponse {
  readonly header: ResponseHeader;
  /**
   * The caller's waiter key, `<name>/<lease id in hex>`: it exists exactly as long as the caller
   * holds the lock, and Unlock takes it.
   */
  readonly key: Buffer;
}

export interface UnlockResponse {
  readonly header: ResponseHeader;
}

export interface Member {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: string[];
  readonly clientUrls: string[];
  readonly isLearner: boolean;
}

export interface MemberListResponse {
  readonly header: ResponseHeader;
  readonly members: Member[];
}

// ---- encoding ------------------------------------------------------------------------------

const SORT_TARGET: Record<SortTarget, number> = { key: 0, version: 1, create: 2, mod: 3, value: 4 };
const SORT_ORDER: Record<SortOrder, number> = { none: 0, ascend: 1, descend: 2 };
const COMPARE_RESULT: Record<CompareResult, number> = { '=': 0, '>': 1, '<': 2, '!=': 3 };
const COMPARE_TARGET: Record<CompareTarget, number> = { version: 0, create: 1, mod: 2, value: 3, lease: 4 };
const FILTER: Record<'noPut' | 'noDelete', number> = { noPut: 0, noDelete: 1 };

type Message = Record<string, unknown>;

/** Only fields that differ from their defaults go on the wire, as proto3 encoders do. */
function setIf(m: Message, field: string, v: unknown): void {
  if (v === undefined || v === false || v === 0 || v === 0n) return;
  if (typeof v === 'bigint') m[field] = fromBigInt(v);
  else if ((typeof v === 'string' || v instanceof Uint8Array) && v.length === 0) return;
  else if (typeof v === 'string' || v instanceof Uint8Array) m[field] = toBuffer(v);
  else m[field] = v;
}

export function encodeRange(r: RangeRequest): Message {
  const m: Message = { key: toBuffer(r.key) };
  setIf(m, 'range_end', r.rangeEnd);
  setIf(m, 'limit', r.limit);
  setIf(m, 'revision', r.revision);
  if (r.sort) {
    setIf(m, 'sort_order', SORT_ORDER[r.sort.order]);
    setIf(m, 'sort_target', SORT_TARGET[r.sort.target]);
  }
  setIf(m, 'serializable', r.serializable);
  setIf(m, 'keys_only', r.keysOnly);
  setIf(m, 'count_only', r.countOnly);
  setIf(m, 'min_mod_revision', r.minModRevision);
  setIf(m, 'max_mod_revision', r.maxModRevision);
  setIf(m, 'min_create_revision', r.minCreateRevision);
  setIf(m, 'max_create_revision', r.maxCreateRevision);
  return m;
}

export function encodePut(r: PutRequest): Message {
  const m: Message = { key: toBuffer(r.key) };
  setIf(m, 'value', r.value);
  setIf(m, 'lease', r.lease);
  setIf(m, 'prev_kv', r.prevKv);
  setIf(m, 'ignore_value', r.ignoreValue);
  setIf(m, 'ignore_lease', r.ignoreLease);
  return m;
}

export function encodeDeleteRange(r: DeleteRangeRequest): Message {
  const m: Message = { key: toBuffer(r.key) };
  setIf(m, 'range_end', r.rangeEnd);
  setIf(m, 'prev_kv', r.prevKv);
  return m;
}

function encodeCompare(c: Compare): Message {
  const m: Message = { key: toBuffer(c.key), result: COMPARE_RESULT[c.result], target: COMPARE_TARGET[c.target] };
  setIf(m, 'range_end', c.rangeEnd);
  // The operand is always sent, zero included: the oneof member must be present to be compared.
  switch (c.target) {
    case 'value':
      m['value'] = toBuffer(c.value);
      break;
    case 'version':
      m['version'] = c.value;
      break;
    case 'create':
      m['create_revision'] = c.value;
      break;
    case 'mod':
      m['mod_revision'] = c.value;
      break;
    case 'lease':
      m['lease'] = fromBigInt(c.value);
      break;
  }
  return m;
}

function encodeOp(op: RequestOp): Message {
  if ('range' in op) return { request_range: encodeRange(op.range) };
  if ('put' in op) return { request_put: encodePut(op.put) };
  if ('deleteRange' in op) return { request_delete_range: encodeDeleteRange(op.deleteRange) };
  return { request_txn: encodeTxn(op.txn) };
}

export function encodeTxn(t: TxnRequest): Message {
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

export function encodeWatchCreate(r: WatchCreateRequest): Message {
  const m: Message = { key: toBuffer(r.key) };
  setIf(m, 'range_end', r.rangeEnd);
  setIf(m, 'start_revision', r.startRevision);
  setIf(m, 'progress_notify', r.progressNotify);
  if (r.filters && r.filters.length > 0) m['filters'] = r.filters.map((f) => FILTER[f]);
  setIf(m, 'prev_kv', r.prevKv);
  setIf(m, 'watch_id', r.watchId);
  setIf(m, 'fragment', r.fragment);
  return m;
}

// ---- decoding ------------------------------------------------------------------------------

const EMPTY_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 };

export function decodeHeader(h: unknown): ResponseHeader {
  if (h === null || h === undefined) return EMPTY_HEADER;
  const d = h as Decoded;
  return {
    clusterId: toBigInt(d['cluster_id']),
    memberId: toBigInt(d['member_id']),
    revision: toNumber(d['revision']),
    raftTerm: toNumber(d['raft_term']),
  };
}

export function decodeKv(kv: unknown): KeyValue {
  const d = kv as Decoded;
  return {
    key: bufferOf(d['key']),
    value: bufferOf(d['value']),
    createRevision: toNumber(d['create_revision']),
    modRevision: toNumber(d['mod_revision']),
    version: toNumber(d['version']),
    lease: toBigInt(d['lease']),
  };
}

const optionalKv = (kv: unknown): KeyValue | undefined => (kv === null || kv === undefined ? undefined : decodeKv(kv));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function decodeRange(d: Decoded): RangeResponse {
  return { header: decodeHeader(d['header']), kvs: list(d['kvs']).map(decodeKv), more: d['more'] === true, count: toNumber(d['count']) };
}

export function decodePut(d: Decoded): PutResponse {
  return { header: decodeHeader(d['header']), prevKv: optionalKv(d['prev_kv']) };
}

export function decodeDeleteRange(d: Decoded): DeleteRangeResponse {
  return { header: decodeHeader(d['header']), deleted: toNumber(d['deleted']), prevKvs: list(d['prev_kvs']).map(decodeKv) };
}

function decodeResponseOp(op: unknown): ResponseOp {
  const d = op as Decoded;
  if (d['response_range']) return { range: decodeRange(d['response_range'] as Decoded) };
  if (d['response_put']) return { put: decodePut(d['response_put'] as Decoded) };
  if (d['response_delete_range']) return { deleteRange: decodeDeleteRange(d['response_delete_range'] as Decoded) };
  if (d['response_txn']) return { txn: decodeTxn(d['response_txn'] as Decoded) };
  throw new Error('txn response op with no response set');
}

export function decodeTxn(d: Decoded): TxnResponse {
  return { header: decodeHeader(d['header']), succeeded: d['succeeded'] === true, responses: list(d['responses']).map(decodeResponseOp) };
}

function decodeEvent(e: unknown): WatchEvent {
  const d = e as Decoded;
  return { type: d['type'] === 1 ? 'delete' : 'put', kv: decodeKv(d['kv'] ?? {}), prevKv: optionalKv(d['prev_kv']) };
}

export function decodeWatch(d: Decoded): WatchResponse {
  return {
    header: decodeHeader(d['header']),
    watchId: toNumber(d['watch_id']),
    created: d['created'] === true,
    canceled: d['canceled'] === true,
    compactRevision: toNumber(d['compact_revision']),
    cancelReason: typeof d['cancel_reason'] === 'string' ? d['cancel_reason'] : '',
    fragment: d['fragment'] === true,
    events: list(d['events']).map(decodeEvent),
  };
}

export function decodeLeaseGrant(d: Decoded): LeaseGrantResponse {
  return { header: decodeHeader(d['header']), id: toBigInt(d['ID']), ttl: toNumber(d['TTL']), error: typeof d['error'] === 'string' ? d['error'] : '' };
}

export function decodeLeaseKeepAlive(d: Decoded): LeaseKeepAliveResponse {
  return { header: decodeHeader(d['header']), id: toBigInt(d['ID']), ttl: toNumber(d['TTL']) };
}

export function decodeLeaseTimeToLive(d: Decoded): LeaseTimeToLiveResponse {
  return {
    header: decodeHeader(d['header']),
    id: toBigInt(d['ID']),
    ttl: toNumber(d['TTL']),
    grantedTtl: toNumber(d['grantedTTL']),
    keys: list(d['keys']).map(bufferOf),
  };
}

export function decodeLeaseLeases(d: Decoded): LeaseLeasesResponse {
  return { header: decodeHeader(d['header']), leases: list(d['leases']).map((l) => toBigInt((l as Decoded)['ID'])) };
}

export function decodeStatus(d: Decoded): StatusResponse {
  return {
    header: decodeHeader(d['header']),
    version: typeof d['version'] === 'string' ? d['version'] : '',
    dbSize: toNumber(d['dbSize']),
    leader: toBigInt(d['leader']),
    raftIndex: toNumber(d['raftIndex']),
    raftTerm: toNumber(d['raftTerm']),
    raftAppliedIndex: toNumber(d['raftAppliedIndex']),
    errors: list(d['errors']).map(String),
    dbSizeInUse: toNumber(d['dbSizeInUse']),
    isLearner: d['isLearner'] === true,
  };
}

export function decodeMemberList(d: Decoded): MemberListResponse {
  return {
    header: decodeHeader(d['header']),
    members: list(d['members']).map((m) => {
      const x = m as Decoded;
      return {
        id: toBigInt(x['ID']),
        name: typeof x['name'] === 'string' ? x['name'] : '',
        peerUrls: list(x['peerURLs']).map(String),
        clientUrls: list(x['clientURLs']).map(String),
        isLearner: x['isLearner'] === true,
      };
    }),
  };
}

export function decodeLock(d: Decoded): LockResponse {
  return { header: decodeHeader(d['header']), key: bufferOf(d['key']) };
}
