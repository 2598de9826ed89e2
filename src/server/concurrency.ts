/**
 * What etcd's lock and election services share (etcd runs them on clientv3's concurrency
 * package over an embedded client; here they run on the MemberService directly):
 *
 * - a waiter's key is `<prefix><lease id in lowercase hex>`, so one lease holds one place;
 * - the owner is the key under the prefix with the smallest create revision;
 * - waiting for ownership is waitDeletes: while some key under the prefix was created before
 *   mine, watch the newest such key until it is deleted, then look again.
 *
 * Example: keys l/a (create 5), l/b (create 7), l/c (create 9, mine). waitDeletes(l/, 8) finds
 * l/b (the newest below 9), waits for its DELETE, then finds l/a, waits, then finds none: l/c owns.
 */
import { EtcdError } from '../errors.js';
import { assert } from '../util/index.js';
import {
  EventType,
  SortOrder,
  SortTarget,
  type KeyValue,
  type MemberService,
  type MemberWatchStream,
  type RangeCall,
  type ResponseHeader,
  type ResponseOp,
  type WatchCreate,
  type WatchResult,
} from './service.js';

/** clientv3's default session TTL: a lock or campaign without a lease gets a lease of this TTL. */
export const SESSION_TTL_SECONDS = 60;

const SLASH = Buffer.from('/');

/** `name + "/"`, the prefix every waiter key of a lock or election is under. */
export function keyPrefix(name: Uint8Array): Buffer {
  return Buffer.concat([name, SLASH]);
}

/** `prefix + lowercase hex lease id` (Go's %x of the int64: a negative id keeps its sign). */
export function waiterKey(prefix: Uint8Array, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16))]);
}

/** The end of the range of keys starting with `prefix` (clientv3's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff: no key sorts after the prefix's keys, so the range is open-ended.
  return new Uint8Array([0]);
}

/**
 * clientv3's NewSession(WithLease(lease)): the given lease, or, for lease 0, a new one of
 * SESSION_TTL_SECONDS that nobody keeps alive (the services orphan their sessions).
 */
export async function sessionLease(service: MemberService, lease: bigint): Promise<bigint> {
  if (lease !== 0n) return lease;
  return (await service.leaseGrant(SESSION_TTL_SECONDS, 0n)).id;
}

/** clientv3's WithFirstCreate (ascending) or WithLastCreate (descending): one key of the prefix. */
export function byCreateRevision(prefix: Uint8Array, order: SortOrder.ASCEND | SortOrder.DESCEND): RangeCall {
  return { key: prefix, rangeEnd: prefixEnd(prefix), sortTarget: SortTarget.CREATE, sortOrder: order, limit: 1 };
}

/** Throws Canceled when the caller went away. */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new EtcdError('Canceled', { cause: signal.reason });
}

/**
 * Waits until every key under `prefix` created at or before `maxCreateRevision` is deleted.
 * Returns the header of the range that found none.
 */
export async function waitDeletes(
  service: MemberService,
  prefix: Uint8Array,
  maxCreateRevision: number,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  for (;;) {
    checkAborted(signal);
    const r = await service.range({ ...byCreateRevision(prefix, SortOrder.DESCEND), maxCreateRevision });
    const last = r.kvs[0];
    if (last === undefined) return r.header;
    // The key exists at r.header.revision, so its DELETE can only come after it.
    await waitDelete(service, last.key, r.header.revision + 1, signal);
  }
}

/** Waits for a DELETE of `key` at or after `fromRevision`. */
async function waitDelete(service: MemberService, key: Uint8Array, fromRevision: number, signal: AbortSignal): Promise<void> {
  const watch = new WatchCursor(service, { key, startRevision: fromRevision }, signal);
  try {
    for (;;) {
      const r = await watch.next();
      if (r === undefined) {
        checkAborted(signal);
        throw new EtcdError('LostWatcher');
      }
      if (r.canceled === true) throw canceledError(r);
      if (r.events.some((ev) => ev.type === EventType.DELETE)) return;
    }
  } finally {
    watch.close();
  }
}

/** What clientv3 reports for a watch the server canceled. */
function canceledError(r: WatchResult): EtcdError {
  return r.compactRevision !== undefined && r.compactRevision > 0 ? new EtcdError('Compacted') : new EtcdError('LostWatcher');
}

/**
 * One watcher on its own Watch stream, as the recipes use it: next() skips the `created`
 * response and gives the rest (events, or the final `canceled` one), undefined once the stream
 * ended or the signal aborted. close() must be called (finally).
 */
export class WatchCursor {
  private readonly stream: MemberWatchStream;
  private readonly onAbort = (): void => this.stream.close();

  constructor(
    service: MemberService,
    request: WatchCreate,
    private readonly signal: AbortSignal,
  ) {
    this.stream = service.watch();
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.stream.close();
    else this.stream.create(request);
  }

  async next(): Promise<WatchResult | undefined> {
    for (;;) {
      const r = await this.stream.next();
      if (r === undefined) return undefined;
      if (r.created === true && r.canceled !== true) continue;
      return r;
    }
  }

  close(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.stream.close();
  }
}

/** The kvs of the txn response at `index`, which the recipes' txns always make a range. */
export function rangeKvsAt(responses: readonly ResponseOp[], index: number): KeyValue[] {
  const op = responses[index];
  assert(op !== undefined && 'responseRange' in op, `txn response ${index} is not a range`);
  return op.responseRange.kvs;
}

/** The key a failed `create_revision == 0` compare found: the else branch's first range. */
export function existingKv(responses: readonly ResponseOp[]): KeyValue {
  const kv = rangeKvsAt(responses, 0)[0];
  assert(kv !== undefined, 'the compare create_revision == 0 failed, so the key exists');
  return kv;
}
