/**
 * The checks etcd's API layer runs before calling its server (api/v3rpc/key.go and member.go),
 * in etcd's order, so a bad request fails with etcd's error without costing a raft round:
 *
 * - Range: EmptyKey, then InvalidSortOption for a sort order or target outside the enums
 *   (etcd 3.5; etcd 3.4 accepted and ignored them).
 * - Put: EmptyKey, ValueProvided (ignore_value with a value), LeaseProvided (ignore_lease with a
 *   lease). DeleteRange: EmptyKey.
 * - Txn: TooManyOps when the compares or either branch exceed maxTxnOps (nested txns get what
 *   is left), EmptyKey for a compare without key, each op's own checks, KeyNotFound for an empty
 *   RequestOp (etcd's answer to it). etcd then runs checkIntervals (DuplicateKey); that check
 *   lives with the store and the server runs it (src/mvcc's checkTxnRequest).
 * - MemberAdd/MemberUpdate: MemberBadURLs for peer URLs etcd's types.NewURLs refuses.
 *
 * Request size (RequestTooLarge) is checked by the handlers: it needs the encoded size.
 */
import { EtcdError } from '../errors.js';
import type { CompareMsg, DeleteRangeRequestMsg, PutRequestMsg, RangeRequestMsg, RequestOpMsg, TxnRequestMsg } from './wire.js';

// RangeRequest.SortOrder NONE..DESCEND and SortTarget KEY..VALUE.
const MAX_SORT_ORDER = 2;
const MAX_SORT_TARGET = 4;

export function checkRangeRequest(r: RangeRequestMsg): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
  if (r.sort_order < 0 || r.sort_order > MAX_SORT_ORDER) throw new EtcdError('InvalidSortOption');
  if (r.sort_target < 0 || r.sort_target > MAX_SORT_TARGET) throw new EtcdError('InvalidSortOption');
}

export function checkPutRequest(r: PutRequestMsg): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
  if (r.ignore_value && r.value.length !== 0) throw new EtcdError('ValueProvided');
  if (r.ignore_lease && r.lease !== '0') throw new EtcdError('LeaseProvided');
}

export function checkDeleteRangeRequest(r: DeleteRangeRequestMsg): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
}

export function checkTxnRequest(r: TxnRequestMsg, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new EtcdError('TooManyOps');
  for (const c of r.compare) checkCompare(c);
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkCompare(c: CompareMsg): void {
  if (c.key.length === 0) throw new EtcdError('EmptyKey');
}

function checkRequestOp(op: RequestOpMsg, maxTxnOps: number): void {
  if (op.request_range) checkRangeRequest(op.request_range);
  else if (op.request_put) checkPutRequest(op.request_put);
  else if (op.request_delete_range) checkDeleteRangeRequest(op.request_delete_range);
  else if (op.request_txn) checkTxnRequest(op.request_txn, maxTxnOps);
  else throw new EtcdError('KeyNotFound');
}

/** Whether a txn only reads, at any depth: etcd serves those without a proposal (no size check). */
export function isTxnReadOnly(r: TxnRequestMsg): boolean {
  const readOnly = (op: RequestOpMsg): boolean => {
    if (op.request_range) return true;
    return op.request_txn ? isTxnReadOnly(op.request_txn) : false;
  };
  return r.success.every(readOnly) && r.failure.every(readOnly);
}

/**
 * etcd's types.NewURLs: at least one URL; each (trimmed) has scheme http, https, unix or unixs,
 * a host:port, and no path.
 */
export function checkPeerURLs(urls: readonly string[]): void {
  if (urls.length === 0) throw new EtcdError('MemberBadURLs');
  for (const raw of urls) {
    if (!PEER_URL.test(raw.trim())) throw new EtcdError('MemberBadURLs');
  }
}

// scheme://host:port, the host a name, an IPv4 address or a bracketed IPv6 address.
const PEER_URL = /^(?:https?|unixs?):\/\/(?:\[[0-9A-Fa-f:.]+\]|[^:/?#[\]]*):[0-9]+$/;
