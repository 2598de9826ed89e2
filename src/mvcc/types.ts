/**
 * The shapes mvcc speaks, mirroring etcd's protobuf messages (`mvccpb.KeyValue`, `mvccpb.Event`
 * and the KV part of `etcdserverpb`) with camelCase field names, so src/api can map the wire
 * messages field by field. There are no ResponseHeaders here: the server adds cluster id, member
 * id and raft term; mvcc only knows the revision, which every response carries as `rev` (the
 * value etcd puts in `header.revision`).
 *
 * Bytes are Uint8Array (results are Buffers, which are Uint8Arrays). Revisions, versions and
 * counts are numbers (asserted safe integers where they are decoded); lease ids are bigint,
 * like every 64-bit id in tsetcd.
 */

/** mvccpb.KeyValue. A key that does not exist has no KeyValue (never one with zeros). */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Main revision of the put that created this life of the key (its generation). */
  readonly createRevision: number;
  /** Main revision of the last change. */
  readonly modRevision: number;
  /** Number of puts since creation: 1 after the creating put; 0 only in DELETE events. */
  readonly version: number;
  readonly value: Uint8Array;
  /** 0n when the key has no lease. */
  readonly lease: bigint;
}

/** mvccpb.Event.EventType. */
export enum EventType {
  PUT = 0,
  DELETE = 1,
}

/**
 * mvccpb.Event. For DELETE, `kv` carries only `key` and `modRevision` (the tombstone's revision),
 * the other fields zero, exactly as etcd sends it. `prevKv` is set when the operation that
 * produced the event asked for it (put/deleteRange `prevKv`).
 */
export interface Event {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/** etcdserverpb.RangeRequest.SortOrder. */
export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

/** etcdserverpb.RangeRequest.SortTarget. */
export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

/**
 * The options of a RangeRequest (everything but key and rangeEnd). Absent fields are the
 * protobuf zero values: no limit, the current revision, no sort, no filters.
 */
export interface RangeOptions {
  /** At most this many kvs; more is set when there were more. <= 0: no limit. */
  readonly limit?: number;
  /** Read as of this revision; <= 0 means the current one. */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  /** Ignored by mvcc: the server decides whether a read goes through ReadIndex. */
  readonly serializable?: boolean;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

/**
 * etcdserverpb.RangeRequest. `rangeEnd` absent or empty: the single key `key`; one zero byte:
 * every key >= key (with key = one zero byte too: all keys); otherwise the keys in [key, rangeEnd).
 */
export interface RangeRequest extends RangeOptions {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
}

export interface RangeResponse {
  readonly kvs: KeyValue[];
  /** There were more kvs than `limit` (after filters). */
  readonly more: boolean;
  /** Keys in the range at the revision read, before limit and before the min/max filters (as etcd). */
  readonly count: number;
  /** The store's current revision (not the revision read), as etcd's header.revision. */
  readonly rev: number;
}

export interface PutOptions {
  /** 0n or absent: no lease. */
  readonly lease?: bigint;
  readonly prevKv?: boolean;
  /** Keep the current value (the request's value must be empty); the key must exist. */
  readonly ignoreValue?: boolean;
  /** Keep the current lease (the request's lease must be 0); the key must exist. */
  readonly ignoreLease?: boolean;
}

/** etcdserverpb.PutRequest. */
export interface PutRequest extends PutOptions {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
}

export interface PutResponse {
  readonly rev: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeOptions {
  readonly prevKv?: boolean;
}

/** etcdserverpb.DeleteRangeRequest; `rangeEnd` as in RangeRequest. */
export interface DeleteRangeRequest extends DeleteRangeOptions {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
}

export interface DeleteRangeResponse {
  readonly rev: number;
  readonly deleted: number;
  /** Set (possibly empty) when prevKv was asked for. */
  readonly prevKvs: KeyValue[];
}

/** etcdserverpb.Compare.CompareResult. */
export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

/** etcdserverpb.Compare.CompareTarget. */
export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

/**
 * etcdserverpb.Compare. The protobuf `target_union` is a oneof; here it is the one field that
 * matches `target` (an absent field is its zero value, as in etcd).
 */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Uint8Array;
  /** As in RangeRequest: the compare holds when it holds for every key in the range. */
  readonly rangeEnd?: Uint8Array;
  readonly version?: number;
  readonly createRevision?: number;
  readonly modRevision?: number;
  readonly value?: Uint8Array;
  readonly lease?: bigint;
}

/** etcdserverpb.RequestOp: exactly one of the oneof's fields. */
export type RequestOp =
  | { readonly requestRange: RangeRequest }
  | { readonly requestPut: PutRequest }
  | { readonly requestDeleteRange: DeleteRangeRequest }
  | { readonly requestTxn: TxnRequest };

/** etcdserverpb.ResponseOp, matching the RequestOp at the same position. */
export type ResponseOp =
  | { readonly responseRange: RangeResponse }
  | { readonly responsePut: PutResponse }
  | { readonly responseDeleteRange: DeleteRangeResponse }
  | { readonly responseTxn: TxnResponse };

/** etcdserverpb.TxnRequest. */
export interface TxnRequest {
  readonly compare?: readonly Compare[];
  readonly success?: readonly RequestOp[];
  readonly failure?: readonly RequestOp[];
}

export interface TxnResponse {
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
  /**
   * The txn's revision: the new one when it changed anything, else the current one. A nested
   * txn's response has 0, as etcd leaves nested headers empty.
   */
  readonly rev: number;
}

/** What an applied request returns: etcd's response plus the events for watchers. */
export interface Applied {
  /** The revision's events in sub-revision order (empty when nothing changed). */
  readonly events: readonly Event[];
}

export type PutResult = PutResponse & Applied;
export type DeleteRangeResult = DeleteRangeResponse & Applied;
export type TxnResult = TxnResponse & Applied;

/** What hashKV returns (etcd's mvcc.KeyValueHash). */
export interface KeyValueHash {
  /** CRC32C of the revision records (see hash-kv.ts). */
  readonly hash: number;
  readonly compactRevision: number;
  /** The revision hashed up to (inclusive). */
  readonly revision: number;
}
