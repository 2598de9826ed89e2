/**
 * The etcdserverpb messages src/api handles, in the shape the protobuf layer hands them over
 * (proto.ts's MESSAGE_OPTIONS): field names as in the .proto files, 64-bit integers as decimal
 * strings, bytes as Buffers, enums as numbers, every absent field at its default, and a oneof's
 * member set only when present (plus the oneof's name holding which one). The gRPC services and
 * the JSON gateway both decode into these shapes, so one set of handlers serves both.
 *
 * Responses are built as plain objects protobufjs's `fromObject` accepts: 64-bit integers as
 * numbers (revisions, counts: safe integers) or decimal strings (64-bit ids), bytes as
 * Uint8Arrays. Absent fields are simply left out.
 */

/** A 64-bit integer as decoded: a decimal string (possibly negative for int64). */
export type Int64String = string;

export interface RangeRequestMsg {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly limit: Int64String;
  readonly revision: Int64String;
  readonly sort_order: number;
  readonly sort_target: number;
  readonly serializable: boolean;
  readonly keys_only: boolean;
  readonly count_only: boolean;
  readonly min_mod_revision: Int64String;
  readonly max_mod_revision: Int64String;
  readonly min_create_revision: Int64String;
  readonly max_create_revision: Int64String;
}

export interface PutRequestMsg {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly lease: Int64String;
  readonly prev_kv: boolean;
  readonly ignore_value: boolean;
  readonly ignore_lease: boolean;
}

export interface DeleteRangeRequestMsg {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly prev_kv: boolean;
}

/** RequestOp's oneof `request`: at most one member is set. */
export interface RequestOpMsg {
  readonly request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  readonly request_range?: RangeRequestMsg;
  readonly request_put?: PutRequestMsg;
  readonly request_delete_range?: DeleteRangeRequestMsg;
  readonly request_txn?: TxnRequestMsg;
}

/** Compare's oneof `target_union`: at most one operand is set. */
export interface CompareMsg {
  readonly result: number;
  readonly target: number;
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  readonly version?: Int64String;
  readonly create_revision?: Int64String;
  readonly mod_revision?: Int64String;
  readonly value?: Buffer;
  readonly lease?: Int64String;
}

export interface TxnRequestMsg {
  readonly compare: readonly CompareMsg[];
  readonly success: readonly RequestOpMsg[];
  readonly failure: readonly RequestOpMsg[];
}

export interface CompactionRequestMsg {
  readonly revision: Int64String;
  readonly physical: boolean;
}

export interface HashKVRequestMsg {
  readonly revision: Int64String;
}

export interface MoveLeaderRequestMsg {
  readonly targetID: Int64String;
}

export interface MemberAddRequestMsg {
  readonly peerURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberIdRequestMsg {
  readonly ID: Int64String;
}

export interface MemberUpdateRequestMsg {
  readonly ID: Int64String;
  readonly peerURLs: readonly string[];
}

export interface MemberListRequestMsg {
  readonly linearizable: boolean;
}

// ---- Watch --------------------------------------------------------------------------------------

export interface WatchCreateRequestMsg {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly start_revision: Int64String;
  readonly progress_notify: boolean;
  readonly filters: readonly number[];
  readonly prev_kv: boolean;
  readonly watch_id: Int64String;
  readonly fragment: boolean;
}

/** WatchRequest's oneof `request_union`: at most one member is set. */
export interface WatchRequestMsg {
  readonly request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  readonly create_request?: WatchCreateRequestMsg | null;
  readonly cancel_request?: { readonly watch_id: Int64String } | null;
  readonly progress_request?: object | null;
}

// ---- Lease --------------------------------------------------------------------------------------

export interface LeaseGrantRequestMsg {
  readonly TTL: Int64String;
  readonly ID: Int64String;
}

/** LeaseRevokeRequest and LeaseKeepAliveRequest. */
export interface LeaseIdRequestMsg {
  readonly ID: Int64String;
}

export interface LeaseTimeToLiveRequestMsg {
  readonly ID: Int64String;
  readonly keys: boolean;
}

// ---- Lock and Election --------------------------------------------------------------------------

export interface LockRequestMsg {
  readonly name: Buffer;
  readonly lease: Int64String;
}

export interface UnlockRequestMsg {
  readonly key: Buffer;
}

export interface LeaderKeyMsg {
  readonly name: Buffer;
  readonly key: Buffer;
  readonly rev: Int64String;
  readonly lease: Int64String;
}

export interface CampaignRequestMsg {
  readonly name: Buffer;
  readonly lease: Int64String;
  readonly value: Buffer;
}

/** LeaderRequest (Leader and Observe). */
export interface LeaderRequestMsg {
  readonly name: Buffer;
}

/** `leader` is null when the client left it out. */
export interface ProclaimRequestMsg {
  readonly leader: LeaderKeyMsg | null;
  readonly value: Buffer;
}

export interface ResignRequestMsg {
  readonly leader: LeaderKeyMsg | null;
}

// ---- responses ---------------------------------------------------------------------------------

/** A 64-bit integer on its way out: a safe integer, or a decimal string for 64-bit ids. */
export type Int64Out = number | string;

export interface ResponseHeaderOut {
  cluster_id?: Int64Out;
  member_id?: Int64Out;
  revision?: Int64Out;
  raft_term?: Int64Out;
}

export interface KeyValueOut {
  key: Uint8Array;
  create_revision?: Int64Out;
  mod_revision?: Int64Out;
  version?: Int64Out;
  value?: Uint8Array;
  lease?: Int64Out;
}

export interface MemberOut {
  ID: Int64Out;
  name?: string;
  peerURLs: readonly string[];
  clientURLs: readonly string[];
  isLearner?: boolean;
}

/** What every handler returns: a response message as `fromObject` takes it. */
export type ResponseOut = object;
