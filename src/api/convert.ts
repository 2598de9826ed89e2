/**
 * Field-by-field mapping between the wire messages (wire.ts) and the MemberService types
 * (src/server/service.ts): snake_case to camelCase, decimal strings to numbers and bigints.
 *
 * Numbers: revisions, limits and counts arrive as int64 decimal strings. A value beyond 2^53 is
 * clamped to ±MAX_SAFE_INTEGER, which keeps etcd's meaning (no store gets near 2^53 revisions,
 * so a clamped revision is still "in the future", a clamped limit still "no limit" in effect, and
 * a clamped compare operand still compares the same way). Going out, every revision and count
 * must be a safe integer (asserted); 64-bit ids travel as decimal strings.
 */
import { WATCH_RESULT } from './watch-encode.js';
import type {
  Compare,
  CompareResult,
  Event,
  LeaderKey,
  CompareTarget,
  DeleteRangeRequest,
  KeyValue,
  Member,
  PutRequest,
  RangeCall,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnCall,
  WatchCreate,
  WatchResult,
} from '../server/service.js';
import { assert } from '../util/index.js';
import type {
  CompareMsg,
  DeleteRangeRequestMsg,
  Int64String,
  KeyValueOut,
  LeaderKeyMsg,
  MemberOut,
  PutRequestMsg,
  RangeRequestMsg,
  RequestOpMsg,
  ResponseHeaderOut,
  TxnRequestMsg,
  WatchCreateRequestMsg,
} from './wire.js';

const UINT64_LIMIT = 1n << 64n;
const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;

/** An int64 field as a number, clamped to the safe range (see the file comment). */
export function int64In(value: Int64String): number {
  const n = Number(value);
  assert(!Number.isNaN(n), `int64 field decoded as ${JSON.stringify(value)}`);
  return Math.min(Math.max(n, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}

/** A 64-bit id (uint64 member ids, int64 lease ids) as a bigint. */
export function idIn(value: Int64String): bigint {
  return BigInt(value);
}

/** A revision, count or index on its way out. */
export function int64Out(n: number): number {
  assert(Number.isSafeInteger(n), `int64 field out of the safe range: ${n}`);
  return n;
}

/** A uint64 id (cluster, member) on its way out. */
export function uint64Out(id: bigint): string {
  assert(id >= 0n && id < UINT64_LIMIT, `uint64 id out of range: ${id}`);
  return id.toString();
}

/** An int64 id (lease) on its way out. */
export function int64IdOut(id: bigint): string {
  assert(id >= INT64_MIN && id < INT64_LIMIT, `int64 id out of range: ${id}`);
  return id.toString();
}

// ---- requests ----------------------------------------------------------------------------------

export function rangeCallIn(m: RangeRequestMsg): RangeCall {
  return {
    key: m.key,
    rangeEnd: m.range_end,
    limit: int64In(m.limit),
    revision: int64In(m.revision),
    // Checked against the enums before conversion (validate.ts).
    sortOrder: m.sort_order as SortOrder,
    sortTarget: m.sort_target as SortTarget,
    serializable: m.serializable,
    keysOnly: m.keys_only,
    countOnly: m.count_only,
    minModRevision: int64In(m.min_mod_revision),
    maxModRevision: int64In(m.max_mod_revision),
    minCreateRevision: int64In(m.min_create_revision),
    maxCreateRevision: int64In(m.max_create_revision),
  };
}

export function putRequestIn(m: PutRequestMsg): PutRequest {
  return {
    key: m.key,
    value: m.value,
    lease: idIn(m.lease),
    prevKv: m.prev_kv,
    ignoreValue: m.ignore_value,
    ignoreLease: m.ignore_lease,
  };
}

export function deleteRangeRequestIn(m: DeleteRangeRequestMsg): DeleteRangeRequest {
  return { key: m.key, rangeEnd: m.range_end, prevKv: m.prev_kv };
}

/**
 * The operand goes to the field it was sent in; the store reads the one that matches the
 * target, so a mismatched operand compares as zero, as in etcd (Go's GetVersion() and friends).
 */
export function compareIn(m: CompareMsg): Compare {
  // Unknown enum values pass through: the store treats them as etcd does.
  const base = { result: m.result as CompareResult, target: m.target as CompareTarget, key: m.key, rangeEnd: m.range_end };
  switch (m.target_union) {
    case 'version':
      return { ...base, version: int64In(m.version ?? '0') };
    case 'create_revision':
      return { ...base, createRevision: int64In(m.create_revision ?? '0') };
    case 'mod_revision':
      return { ...base, modRevision: int64In(m.mod_revision ?? '0') };
    case 'value':
      return { ...base, value: m.value ?? Buffer.alloc(0) };
    case 'lease':
      return { ...base, lease: idIn(m.lease ?? '0') };
    default:
      return base;
  }
}

/** An empty RequestOp is refused by validate.ts before it gets here. */
export function requestOpIn(m: RequestOpMsg): RequestOp {
  if (m.request_range) return { requestRange: rangeCallIn(m.request_range) };
  if (m.request_put) return { requestPut: putRequestIn(m.request_put) };
  if (m.request_delete_range) return { requestDeleteRange: deleteRangeRequestIn(m.request_delete_range) };
  assert(m.request_txn !== undefined && m.request_txn !== null, 'an empty RequestOp passed validation');
  return { requestTxn: txnRequestIn(m.request_txn) };
}

export function txnRequestIn(m: TxnRequestMsg): TxnCall {
  return {
    compare: m.compare.map(compareIn),
    success: m.success.map(requestOpIn),
    failure: m.failure.map(requestOpIn),
  };
}

export function watchCreateIn(m: WatchCreateRequestMsg): WatchCreate {
  return {
    key: m.key,
    rangeEnd: m.range_end,
    startRevision: int64In(m.start_revision),
    progressNotify: m.progress_notify,
    filters: m.filters,
    prevKv: m.prev_kv,
    watchId: int64In(m.watch_id),
    fragment: m.fragment,
  };
}

export function leaderKeyIn(m: LeaderKeyMsg): LeaderKey {
  return { name: m.name, key: m.key, rev: int64In(m.rev), lease: idIn(m.lease) };
}

// ---- responses ---------------------------------------------------------------------------------

/**
 * A full header, as etcd fills it for KV and Maintenance calls. etcd leaves the revision out
 * of Cluster calls' headers (they do not touch the store): `withRevision: false`.
 */
export function headerOut(h: ResponseHeader, withRevision = true): ResponseHeaderOut {
  const out: ResponseHeaderOut = { cluster_id: uint64Out(h.clusterId), member_id: uint64Out(h.memberId) };
  if (withRevision && h.revision !== 0) out.revision = int64Out(h.revision);
  if (h.raftTerm !== 0) out.raft_term = int64Out(h.raftTerm);
  return out;
}

/** The header of a response inside a txn: etcd sets only its revision (0 for a nested txn). */
function opHeaderOut(rev: number): ResponseHeaderOut {
  return rev === 0 ? {} : { revision: int64Out(rev) };
}

export function kvOut(kv: KeyValue): KeyValueOut {
  const out: KeyValueOut = {
    key: kv.key,
    create_revision: int64Out(kv.createRevision),
    mod_revision: int64Out(kv.modRevision),
    version: int64Out(kv.version),
  };
  if (kv.value.length > 0) out.value = kv.value;
  if (kv.lease !== 0n) out.lease = int64IdOut(kv.lease);
  return out;
}

export function responseOpOut(op: ResponseOp): object {
  if ('responseRange' in op) {
    const r = op.responseRange;
    return {
      response_range: { header: opHeaderOut(r.rev), kvs: r.kvs.map(kvOut), more: r.more, count: int64Out(r.count) },
    };
  }
  if ('responsePut' in op) {
    const r = op.responsePut;
    return { response_put: { header: opHeaderOut(r.rev), ...(r.prevKv === undefined ? {} : { prev_kv: kvOut(r.prevKv) }) } };
  }
  if ('responseDeleteRange' in op) {
    const r = op.responseDeleteRange;
    return {
      response_delete_range: { header: opHeaderOut(r.rev), deleted: int64Out(r.deleted), prev_kvs: r.prevKvs.map(kvOut) },
    };
  }
  const r = op.responseTxn;
  return { response_txn: { header: opHeaderOut(r.rev), succeeded: r.succeeded, responses: r.responses.map(responseOpOut) } };
}

export function memberOut(m: Member): MemberOut {
  const out: MemberOut = { ID: uint64Out(m.id), peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] };
  if (m.name !== '') out.name = m.name;
  if (m.isLearner) out.isLearner = true;
  return out;
}

/** mvccpb.Event: the type as its enum number (PUT is the default, left out in JSON). */
export function eventOut(ev: Event): object {
  return { type: ev.type, kv: kvOut(ev.kv), ...(ev.prevKv === undefined ? {} : { prev_kv: kvOut(ev.prevKv) }) };
}

export function watchResultOut(r: WatchResult): object {
  // The gRPC side encodes from the result itself (watch-encode.ts); the gateway uses the fields.
  return {
    [WATCH_RESULT]: r,
    header: headerOut(r.header),
    watch_id: int64Out(r.watchId),
    created: r.created === true,
    canceled: r.canceled === true,
    compact_revision: int64Out(r.compactRevision ?? 0),
    cancel_reason: r.cancelReason ?? '',
    fragment: r.fragment === true,
    events: r.events.map(eventOut),
  };
}

export function leaderKeyOut(k: LeaderKey): object {
  return { name: k.name, key: k.key, rev: int64Out(k.rev), lease: int64IdOut(k.lease) };
}
