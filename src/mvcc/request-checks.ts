/**
 * Request validation that needs no state: etcd's checks in api/v3rpc/key.go, which etcd runs
 * before proposing. The server should run them before proposing too (so a bad request never
 * costs a raft round), with its configured --max-txn-ops; the store runs them again when it
 * applies (with no op limit, which is server configuration), so a request that slipped through
 * fails the same way on every member instead of being half-applied.
 *
 * Errors, in etcd's order: EmptyKey, InvalidSortOption, ValueProvided, LeaseProvided,
 * TooManyOps, KeyNotFound (an empty RequestOp), DuplicateKey (checkIntervals).
 */
import { EtcdError } from '../errors.js';
import { keyString } from './bytes.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
  const order = r.sortOrder ?? 0;
  const target = r.sortTarget ?? 0;
  if (!Number.isInteger(order) || order < 0 || order > 2) throw new EtcdError('InvalidSortOption');
  if (!Number.isInteger(target) || target < 0 || target > 4) throw new EtcdError('InvalidSortOption');
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
  if (r.ignoreValue === true && r.value !== undefined && r.value.length !== 0) throw new EtcdError('ValueProvided');
  if (r.ignoreLease === true && r.lease !== undefined && r.lease !== 0n) throw new EtcdError('LeaseProvided');
}

export function checkDeleteRangeRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new EtcdError('EmptyKey');
}

/**
 * etcd's checkTxnRequest followed by checkIntervals on both branches. `maxTxnOps` bounds the
 * compares and the ops of each branch, at every nesting level (etcd passes the remainder down).
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(r, maxTxnOps);
  // After the cheap checks, so an oversized request is refused before the quadratic part.
  checkIntervals(r.success ?? []);
  checkIntervals(r.failure ?? []);
}

function checkTxnOps(r: TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? [];
  const success = r.success ?? [];
  const failure = r.failure ?? [];
  const opc = Math.max(compare.length, success.length, failure.length);
  if (opc > maxTxnOps) throw new EtcdError('TooManyOps');
  for (const c of compare) if (c.key.length === 0) throw new EtcdError('EmptyKey');
  for (const op of success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if ('requestRange' in op) checkRangeRequest(op.requestRange);
  else if ('requestPut' in op) checkPutRequest(op.requestPut);
  else if ('requestDeleteRange' in op) checkDeleteRangeRequest(op.requestDeleteRange);
  else if ('requestTxn' in op) checkTxnOps(op.requestTxn, maxTxnOps);
  else throw new EtcdError('KeyNotFound'); // an empty RequestOp, as etcd answers it
}

/** A delete's keys as etcd's interval tree sees them (StringAffine intervals). */
interface DeleteInterval {
  readonly begin: string;
  /** null: a single key. */
  readonly end: string | null;
}

/**
 * Whether a put of `key` collides with a delete. etcd makes a point [k, k+"\0") of the put and
 * an interval [key, rangeEnd) of the delete, with "" as +infinity; a from-key delete (rangeEnd
 * "\0") is therefore the empty interval [key, "\0") and collides with nothing. That is etcd's
 * behaviour, so it is ours (the store rolls such a txn back if it then fails, see txn.ts).
 */
function collides(dels: readonly DeleteInterval[], key: string): boolean {
  return dels.some((d) => (d.end === null ? d.begin === key : d.begin <= key && key < d.end));
}

/**
 * etcd's checkIntervals: no key may be put twice, or put and deleted, by one txn; the two
 * branches of a nested txn may put the same key (only one runs). Returns the puts and deletes
 * of these ops for the level above.
 */
export function checkIntervals(reqs: readonly RequestOp[]): { puts: Set<string>; dels: DeleteInterval[] } {
  const dels: DeleteInterval[] = [];
  for (const op of reqs) {
    if (!('requestDeleteRange' in op)) continue;
    const d = op.requestDeleteRange;
    const begin = keyString(d.key);
    dels.push({ begin, end: d.rangeEnd === undefined || d.rangeEnd.length === 0 ? null : keyString(d.rangeEnd) });
  }
  const puts = new Set<string>();
  for (const op of reqs) {
    if (!('requestTxn' in op)) continue;
    const then = checkIntervals(op.requestTxn.success ?? []);
    const otherwise = checkIntervals(op.requestTxn.failure ?? []);
    for (const k of then.puts) {
      if (puts.has(k) || collides(dels, k)) throw new EtcdError('DuplicateKey');
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      // A key from the then-branch is fine: the branches exclude each other.
      if ((puts.has(k) && !then.puts.has(k)) || collides(dels, k)) throw new EtcdError('DuplicateKey');
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of reqs) {
    if (!('requestPut' in op)) continue;
    const k = keyString(op.requestPut.key);
    if (puts.has(k) || collides(dels, k)) throw new EtcdError('DuplicateKey');
    puts.add(k);
  }
  return { puts, dels };
}
