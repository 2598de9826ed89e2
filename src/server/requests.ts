import { Packr } from 'msgpackr';
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, TxnResponse } from '../mvcc/index.js';
import type { Member, TxnCall } from './service.js';

/**
 * What a normal raft entry carries: one client request (or an internal one), with the id the
 * proposer waits on. Encoded with msgpackr: bigints and byte arrays round-trip as they are.
 */
export type InternalRequest =
  | { readonly id: bigint; readonly op: 'put'; readonly put: PutRequest }
  | { readonly id: bigint; readonly op: 'deleteRange'; readonly deleteRange: DeleteRangeRequest }
  | { readonly id: bigint; readonly op: 'txn'; readonly txn: TxnCall }
  | { readonly id: bigint; readonly op: 'compaction'; readonly revision: number; readonly physical: boolean }
  /** A member publishing its name and client URLs once it has started (etcd's attributes). */
  | { readonly id: bigint; readonly op: 'attributes'; readonly memberId: bigint; readonly name: string; readonly clientURLs: string[] }
  | { readonly id: bigint; readonly op: 'leaseGrant'; readonly leaseId: bigint; readonly ttl: number }
  /** A client's revoke, or the leader's for an expired lease. */
  | { readonly id: bigint; readonly op: 'leaseRevoke'; readonly leaseId: bigint }
  /** etcd's LeaseCheckpoint: how long leases had left. No longer proposed; applied from older logs. */
  | { readonly id: bigint; readonly op: 'leaseCheckpoint'; readonly checkpoints: { readonly id: bigint; readonly remainingMs: number }[] };

export type RequestOp = InternalRequest['op'];

/** One request of the given op. */
export type RequestOf<Op extends RequestOp> = Extract<InternalRequest, { readonly op: Op }>;

/** What applying each op gives its proposer (an etcd error fails it instead). */
export interface ApplyResults {
  put: PutResponse;
  deleteRange: DeleteRangeResponse;
  txn: TxnResponse;
  compaction: { readonly rev: number };
  attributes: Record<string, never>;
  leaseGrant: { readonly ttl: number };
  leaseRevoke: Record<string, never>;
  leaseCheckpoint: Record<string, never>;
}

/** What applying a configuration change gives its proposer. */
export interface ConfChangeResult {
  readonly member: Member;
}

/** What a ConfChange entry's context carries: the proposer's request id and the member. */
export interface ConfChangeContext {
  readonly requestId: bigint;
  readonly member: { readonly id: bigint; readonly name: string; readonly peerURLs: string[]; readonly clientURLs: string[]; readonly isLearner: boolean };
}

const packr = new Packr({ useRecords: false, useBigIntExtension: true });

export function encodeRequest(r: InternalRequest): Uint8Array {
  return packr.pack(r);
}

export function decodeRequest(data: Uint8Array): InternalRequest {
  return packr.unpack(data) as InternalRequest;
}

export function encodeConfContext(c: ConfChangeContext): Uint8Array {
  return packr.pack(c);
}

export function decodeConfContext(data: Uint8Array): ConfChangeContext {
  return packr.unpack(data) as ConfChangeContext;
}

export function encodeValue(v: unknown): Uint8Array {
  return packr.pack(v);
}

export function decodeValue<T>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}
