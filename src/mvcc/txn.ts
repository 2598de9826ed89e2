/**
 * etcd's Txn (server/etcdserver/txn/txn.go), in etcd's three steps:
 *
 * 1. decide: evaluate the compares of the txn, and of every nested txn on the branch taken,
 *    all against the state before the txn (etcd's compareToPath reads one view);
 * 2. check: against that same state, a range at a revision that is in the future or compacted
 *    fails the txn (FutureRev, Compacted); so does a put with ignoreValue/ignoreLease of a key
 *    that does not exist (KeyNotFound), or naming a lease that does not exist (LeaseNotFound);
 * 3. execute the ops of the branches taken in order, in one WriteTxn (one revision); reads see
 *    the writes before them.
 *
 * A failure in step 1 or 2 changes nothing. Step 3 can fail in one case etcd's request checks
 * let through: a put with ignoreValue/ignoreLease of a key an earlier from-key delete of the
 * same txn removed (checkIntervals does not see from-key deletes, request-checks.ts). etcd
 * panics there, on every member; the store rolls the txn back instead (MvccStore.txn), so the
 * client gets KeyNotFound and nothing changes.
 */
import { EtcdError } from '../errors.js';
import { assert } from '../util/index.js';
import { compareBytes, keySpan, keyString } from './bytes.js';
import type { ReadView } from './store-core.js';
import {
  CompareResult,
  CompareTarget,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types.js';

/** The branch a txn takes, and the paths of the nested txns on that branch, in op order. */
export interface TxnPath {
  readonly succeeded: boolean;
  readonly nested: readonly TxnPath[];
}

/** Where a txn's ops run: a WriteTxn, or a read view for read-only txns. */
export interface TxnExecutor {
  range(r: RangeRequest): Promise<RangeResponse>;
  put(r: PutRequest): Promise<PutResponse>;
  deleteRange(r: DeleteRangeRequest): Promise<DeleteRangeResponse>;
}

const NO_BYTES = new Uint8Array(0);

/** etcd's IsTxnReadonly: every op of both branches is a range (a nested txn counts as a write). */
export function isTxnReadOnly(req: TxnRequest): boolean {
  const ops = [...(req.success ?? []), ...(req.failure ?? [])];
  return ops.every((op) => 'requestRange' in op);
}

/** Step 1: the compares, evaluated against the view (the state before the txn). */
export async function decidePath(view: ReadView, req: TxnRequest): Promise<TxnPath> {
  let succeeded = true;
  for (const c of req.compare ?? []) {
    if (!(await applyCompare(view, c))) {
      succeeded = false;
      break;
    }
  }
  const nested: TxnPath[] = [];
  for (const op of branch(req, succeeded)) {
    if ('requestTxn' in op) nested.push(await decidePath(view, op.requestTxn));
  }
  return { succeeded, nested };
}

/**
 * One compare (etcd's applyCompare): it holds when it holds for every key in its range at the
 * view's revision. With no key there, a VALUE compare fails (a missing value cannot be told from
 * an empty one) and the others compare against zeros: version, create and mod revision 0, lease 0.
 */
export async function applyCompare(view: ReadView, c: Compare): Promise<boolean> {
  const { entries } = view.index.revisions(keySpan(c.key, c.rangeEnd), view.rev, 0);
  if (entries.length === 0) {
    return c.target === CompareTarget.VALUE ? false : compareKv(c, { createRevision: 0, modRevision: 0, version: 0, value: NO_BYTES, lease: 0n });
  }
  if (c.target === CompareTarget.VALUE || c.target === CompareTarget.LEASE) {
    const kvs = await view.fetch(entries, view.rev);
    return kvs.every((kv) => compareKv(c, kv));
  }
  // The revisions and versions are in the index: no need to read the records.
  return entries.every(({ rev }) =>
    compareKv(c, { createRevision: rev.created, modRevision: rev.main, version: rev.version, value: NO_BYTES, lease: 0n }),
  );
}

function compareKv(c: Compare, kv: Omit<KeyValue, 'key'>): boolean {
  let result = 0;
  switch (c.target) {
    case CompareTarget.VALUE:
      result = compareBytes(kv.value, c.value ?? NO_BYTES);
      break;
    case CompareTarget.CREATE:
      result = Math.sign(kv.createRevision - (c.createRevision ?? 0));
      break;
    case CompareTarget.MOD:
      result = Math.sign(kv.modRevision - (c.modRevision ?? 0));
      break;
    case CompareTarget.VERSION:
      result = Math.sign(kv.version - (c.version ?? 0));
      break;
    case CompareTarget.LEASE: {
      const lease = c.lease ?? 0n;
      result = kv.lease < lease ? -1 : kv.lease > lease ? 1 : 0;
      break;
    }
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0;
    case CompareResult.NOT_EQUAL:
      return result !== 0;
    case CompareResult.GREATER:
      return result > 0;
    case CompareResult.LESS:
      return result < 0;
  }
  // An unknown result holds, as in etcd's compareKV.
  return true;
}

/** Step 2: the checks of the ops on the path, against the view (etcd's checkTxn). */
export function checkTxnPath(view: ReadView, req: TxnRequest, path: TxnPath, leaseExists: (id: bigint) => boolean): void {
  let nested = 0;
  for (const op of branch(req, path.succeeded)) {
    if ('requestRange' in op) {
      // Unlike a plain range, a nonzero revision is checked as is: a negative one below the
      // compaction revision (or below -1 before any compaction) is Compacted, as in etcd.
      const rev = op.requestRange.revision ?? 0;
      if (rev !== 0 && rev > view.rev) throw new EtcdError('FutureRev');
      if (rev !== 0 && rev < view.compactRev()) throw new EtcdError('Compacted');
    } else if ('requestPut' in op) {
      const p = op.requestPut;
      if (p.ignoreValue === true || p.ignoreLease === true) {
        if (view.index.get(keyString(p.key))?.get(view.rev) === undefined) throw new EtcdError('KeyNotFound');
      }
      const lease = p.lease ?? 0n;
      if (lease !== 0n && !leaseExists(lease)) throw new EtcdError('LeaseNotFound');
    } else if ('requestTxn' in op) {
      const sub = path.nested[nested++];
      assert(sub !== undefined, 'txn path does not match the request');
      checkTxnPath(view, op.requestTxn, sub, leaseExists);
    }
  }
}

/** Step 3: runs the ops on the path, in order. A nested txn's response carries rev 0, as etcd's. */
export async function executeTxn(exec: TxnExecutor, req: TxnRequest, path: TxnPath): Promise<TxnResponse> {
  const responses: ResponseOp[] = [];
  let nested = 0;
  for (const op of branch(req, path.succeeded)) {
    if ('requestRange' in op) {
      responses.push({ responseRange: await exec.range(op.requestRange) });
    } else if ('requestPut' in op) {
      responses.push({ responsePut: await exec.put(op.requestPut) });
    } else if ('requestDeleteRange' in op) {
      responses.push({ responseDeleteRange: await exec.deleteRange(op.requestDeleteRange) });
    } else {
      const sub = path.nested[nested++];
      assert(sub !== undefined, 'txn path does not match the request');
      responses.push({ responseTxn: await executeTxn(exec, op.requestTxn, sub) });
    }
  }
  return { succeeded: path.succeeded, responses, rev: 0 };
}

function branch(req: TxnRequest, succeeded: boolean): readonly RequestOp[] {
  return (succeeded ? req.success : req.failure) ?? [];
}
