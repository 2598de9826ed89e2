/**
 * etcd's Lock service (v3lockpb.Lock, a distributed mutex: clientv3/concurrency's Mutex) on a
 * MemberService. Lock puts the caller's waiter key `<name>/<lease hex>` with its lease and
 * waits until every waiter created before it is gone; the lock is held while that key exists,
 * so Unlock is a delete and an expiring lease releases it too.
 */
import { EtcdError } from '../errors.js';
import { byCreateRevision, existingKv, keyPrefix, rangeKvsAt, sessionLease, waiterKey, waitDeletes } from './concurrency.js';
import { CompareResult, CompareTarget, SortOrder, type MemberService, type ResponseHeader } from './service.js';

/**
 * How a waiter that is not first gets the lock. Production waits until every earlier waiter is
 * gone; the fault harness's `lock-without-lease-check` control grants at once, whoever holds
 * the lock, and must be caught.
 */
export type LockPolicy = (waitForEarlier: () => Promise<ResponseHeader>, enqueued: ResponseHeader) => Promise<ResponseHeader>;

export const WAIT_FOR_EARLIER: LockPolicy = (waitForEarlier) => waitForEarlier();

export interface LockResult {
  readonly header: ResponseHeader;
  /** The waiter key that holds the lock. */
  readonly key: Uint8Array;
}

/**
 * Waits until the named lock is held with `lease` (0: a new lease of clientv3's session TTL).
 * A lease that does not exist fails with LeaseNotFound. When `signal` aborts while waiting, the
 * waiter key is deleted, as etcd's Mutex does, and Canceled is thrown.
 */
export async function lock(service: MemberService, name: Uint8Array, lease: bigint, signal: AbortSignal, policy: LockPolicy = WAIT_FOR_EARLIER): Promise<LockResult> {
  const leaseId = await sessionLease(service, lease);
  const prefix = keyPrefix(name);
  const key = waiterKey(prefix, leaseId);
  const owner = { requestRange: byCreateRevision(prefix, SortOrder.ASCEND) };
  // Enqueue, or find the key this lease already has (a second Lock with the same lease).
  const t = await service.txn({
    compare: [{ key, target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: 0 }],
    success: [{ requestPut: { key, value: new Uint8Array(0), lease: leaseId } }, owner],
    failure: [{ requestRange: { key } }, owner],
  });
  const myRevision = t.succeeded ? t.header.revision : existingKv(t.responses).createRevision;
  const first = rangeKvsAt(t.responses, 1)[0];
  if (first === undefined || first.createRevision === myRevision) return { header: t.header, key };
  try {
    const header = await policy(() => waitDeletes(service, prefix, myRevision - 1, signal), t.header);
    return { header, key };
  } catch (e) {
    await releaseQuietly(service, key);
    throw e;
  }
}

/** Releases the lock held by `key` (deletes it; a key that is gone is no error). */
export async function unlock(service: MemberService, key: Uint8Array): Promise<{ header: ResponseHeader }> {
  // The embedded client's Delete meets the KV API's checks.
  if (key.length === 0) throw new EtcdError('EmptyKey');
  const r = await service.deleteRange({ key });
  return { header: r.header };
}

/** Best effort, after waiting failed: the lease would release the key anyway once it expires. */
async function releaseQuietly(service: MemberService, key: Uint8Array): Promise<void> {
  try {
    await service.deleteRange({ key });
  } catch {
    // Nobody is left to tell (the caller went away); the lease's expiry cleans up.
  }
}
