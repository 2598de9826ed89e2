/**
 * What one member offers its API layer (src/api): the etcd v3 KV, Cluster and Maintenance
 * operations in plain TypeScript types. src/api maps gRPC and HTTP/JSON messages onto these and
 * turns thrown EtcdErrors into statuses; nothing here knows about the wire.
 *
 * Request and response shapes are the mvcc ones (camelCase etcdserverpb fields); every response
 * carries a ResponseHeader.
 */
import type {
  DeleteRangeRequest,
  Event,
  KeyValue,
  PutRequest,
  RangeRequest,
  ResponseOp,
  TxnRequest,
} from '../mvcc/index.js';

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The store's revision when the request was served (for writes: the revision they made). */
  readonly revision: number;
  readonly raftTerm: number;
}

export interface RangeCall extends RangeRequest {
  /** Serve from this member's store without a ReadIndex round (may be stale). */
  readonly serializable?: boolean;
}

export interface RangeResult {
  readonly header: ResponseHeader;
  readonly kvs: KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

export interface PutResult {
  readonly header: ResponseHeader;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeResult {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: KeyValue[];
}

/** A Txn as clients send it (etcdserverpb.TxnRequest). */
export type TxnCall = TxnRequest;

export interface TxnResult {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
}

export interface CompactResult {
  readonly header: ResponseHeader;
}

export interface Member {
  readonly id: bigint;
  /** Empty until the member has started and published its name. */
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberListResult {
  readonly header: ResponseHeader;
  readonly members: Member[];
}

export interface MemberChangeResult {
  readonly header: ResponseHeader;
  /** The member added/removed/updated/promoted (MemberAdd returns it). */
  readonly member?: Member;
  readonly members: Member[];
}

export interface StatusResult {
  readonly header: ResponseHeader;
  readonly version: string;
  /** Bytes of the backend database on disk. */
  readonly dbSize: number;
  /** Bytes in use (etcd 3.4's dbSizeInUse). */
  readonly dbSizeInUse: number;
  readonly leader: bigint;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  readonly errors: string[];
  readonly isLearner: boolean;
}

export interface HashKVResult {
  readonly header: ResponseHeader;
  readonly hash: number;
  readonly compactRevision: number;
}

// ---- Watch ------------------------------------------------------------------------------------

/** etcdserverpb.WatchCreateRequest, camelCase. */
export interface WatchCreate {
  readonly key: Uint8Array;
  /** As etcd: absent/empty = the key alone; one zero byte = every key >= key; else [key, rangeEnd). */
  readonly rangeEnd?: Uint8Array;
  /** 0: from the next revision. */
  readonly startRevision?: number;
  readonly progressNotify?: boolean;
  /** etcdserverpb.WatchCreateRequest.FilterType values: 0 NOPUT, 1 NODELETE. */
  readonly filters?: readonly number[];
  readonly prevKv?: boolean;
  /** Client-chosen id; 0 or absent lets the member choose (etcd's AutoWatchID is 0). */
  readonly watchId?: number;
  /** Split responses larger than the request size limit into fragments. */
  readonly fragment?: boolean;
}

/** etcdserverpb.WatchResponse, camelCase. */
export interface WatchResult {
  readonly header: ResponseHeader;
  /** -1 on a stream-wide progress response (etcd 3.4's broadcast to all watchers). */
  readonly watchId: number;
  readonly created?: boolean;
  readonly canceled?: boolean;
  /** With canceled: the start revision was compacted. */
  readonly compactRevision?: number;
  readonly cancelReason?: string;
  /** More fragments of the same response follow. */
  readonly fragment?: boolean;
  readonly events: readonly Event[];
}

/**
 * One Watch call's stream on a member. Requests go in through create/cancel/requestProgress;
 * responses come out of next(), in order, with backpressure: the member buffers a bounded amount
 * per stream and holds slow watchers aside (they catch up from history later), so a client that
 * stops reading costs bounded memory and never stalls the member.
 */
export interface MemberWatchStream {
  /** A WatchCreateRequest; its `created` response (or a canceled one, with the reason) follows. */
  create(req: WatchCreate): void;
  /** A WatchCancelRequest; a `canceled` response follows when the id was live. */
  cancel(watchId: number): void;
  /** A WatchProgressRequest. */
  requestProgress(): void;
  /** The next response; undefined once the stream is closed. Only one next() at a time. */
  next(): Promise<WatchResult | undefined>;
  /** The client went away: cancel every watcher and end next(). */
  close(): void;
}

// ---- Lease ------------------------------------------------------------------------------------

export interface LeaseGrantResult {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** The TTL granted: the requested one raised to the minimum. */
  readonly ttl: number;
}

export interface LeaseKeepAliveResult {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** Seconds granted by this renewal; 0 when the lease does not exist (as etcd answers). */
  readonly ttl: number;
}

export interface LeaseTimeToLiveResult {
  readonly header: ResponseHeader;
  readonly id: bigint;
  /** Seconds left; -1 when the lease does not exist (as etcd answers). */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: Uint8Array[];
}

export interface LeaseLeasesResult {
  readonly header: ResponseHeader;
  readonly leases: bigint[];
}

// ---- Lock and Election (v3lockpb, v3electionpb) -----------------------------------------------

/** v3electionpb.LeaderKey. */
export interface LeaderKey {
  readonly name: Uint8Array;
  readonly key: Uint8Array;
  /** Creation revision of the key (what proves leadership). */
  readonly rev: number;
  readonly lease: bigint;
}

/** The operations of one member, as src/api calls them. Errors are thrown as EtcdError. */
export interface MemberService {
  range(req: RangeCall): Promise<RangeResult>;
  put(req: PutRequest): Promise<PutResult>;
  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResult>;
  txn(req: TxnCall): Promise<TxnResult>;
  compact(revision: number, physical: boolean): Promise<CompactResult>;

  memberList(linearizable: boolean): Promise<MemberListResult>;
  memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResult>;
  memberRemove(id: bigint): Promise<MemberChangeResult>;
  memberUpdate(id: bigint, peerURLs: readonly string[]): Promise<MemberChangeResult>;
  memberPromote(id: bigint): Promise<MemberChangeResult>;

  status(): Promise<StatusResult>;
  hashKV(revision: number): Promise<HashKVResult>;
  moveLeader(targetId: bigint): Promise<{ header: ResponseHeader }>;

  /** Opens one Watch call's stream. */
  watch(): MemberWatchStream;

  /** id 0n: the member chooses one. */
  leaseGrant(ttlSeconds: number, id: bigint): Promise<LeaseGrantResult>;
  /** Deletes the lease and its keys, in one revision. */
  leaseRevoke(id: bigint): Promise<{ header: ResponseHeader }>;
  /** One keep-alive (the stream calls this per request); answered by the leader. */
  leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResult>;
  leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResult>;
  leaseLeases(): Promise<LeaseLeasesResult>;

  /** The limits the API layer enforces before calling in (etcd's flags). */
  readonly limits: { readonly maxRequestBytes: number; readonly maxTxnOps: number };
}

// src/api may import only server and errors: the request vocabulary it needs comes through here.
export {
  CompareResult,
  CompareTarget,
  EventType,
  SortOrder,
  SortTarget,
  type Compare,
  type DeleteRangeRequest,
  type Event,
  type KeyValue,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
} from '../mvcc/index.js';
