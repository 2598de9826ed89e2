/**
 * The client's request and response shapes (codec.ts converts them to and from the wire's
 * generated message types). Keys and values are Buffers out (strings or Uint8Arrays in);
 * revisions, versions and counts are numbers; lease, member and cluster ids are bigints.
 */
import type { Bytes } from './wire.js';

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
