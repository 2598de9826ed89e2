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
