/**
 * The lessor: etcd's lease table (server/lease/lessor.go) as a synchronous library.
 *
 * Two kinds of input, kept apart on purpose:
 * - Applied state (grant, revoke, attach, detach, checkpoint): called by the apply loop in log
 *   order on every member. These never read the clock except to (re)schedule expiry on the
 *   primary, so every member ends up with the same table.
 * - Leader-only timing (promote, demote, renew, expired, checkpoints): only the primary (the
 *   raft leader) tracks expiry. It never revokes on its own; `expired()` reports leases whose
 *   time is up and the server proposes their revocation through raft, like etcd's expiredC.
 *
 * The lessor never touches mvcc: revoking hands the attached keys to the `deleteKeys` callback
 * (etcd's RangeDeleter), which the server points at the same write transaction.
 */
import { etcdError } from '../errors.js';
import { keyBytes, keyString } from '../mvcc/bytes.js';
import { assert } from '../util/index.js';
import { LeaseHeap } from './lease-heap.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds (~285 years). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;
/** etcd's default lease checkpoint interval (5 minutes). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
/** etcd's expiredLeaseRetryInterval: an expired lease not yet revoked is reported again after this. */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface Clock {
  nowMs(): number;
}

/** Callback that deletes the keys of a revoked lease (etcd's RangeDeleter). Called once per revoke. */
export type DeleteKeys = (keys: Uint8Array[], leaseId: bigint) => void;

export interface LessorOptions {
  readonly clock: Clock;
  /** Leases shorter than this are raised to it; see minLeaseTtlSeconds(). */
  readonly minTtlSeconds: number;
  readonly deleteKeys: DeleteKeys;
  /** How often the primary persists the remaining TTL of long leases; 0 turns checkpoints off. */
  readonly checkpointIntervalMs?: number;
  /** When an expired lease has been reported, how long before it is reported again. */
  readonly expiredRetryMs?: number;
}

/**
 * etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds, so a lease can't
 * expire merely because a leader election took the whole election timeout.
 * Example: electionTicks 10, tickMs 100 -> 1500 ms -> 2 s.
 */
export function minLeaseTtlSeconds(electionTicks: number, tickMs: number): number {
  assert(Number.isInteger(electionTicks) && electionTicks > 0, 'minLeaseTtlSeconds: bad electionTicks');
  assert(tickMs > 0, 'minLeaseTtlSeconds: bad tickMs');
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * tickMs) / 1000);
}

export interface LeaseInfo {
  readonly id: bigint;
  /** The granted TTL (after raising to the minimum). */
  readonly ttlSeconds: number;
  /** Remaining TTL from the last applied checkpoint; 0 means "none, use ttlSeconds". */
  readonly remainingTtlSeconds: number;
  /** When the primary will report it expired; undefined when not tracked (not primary). */
  readonly expiryMs: number | undefined;
  readonly keyCount: number;
}

export interface TimeToLive {
  readonly id: bigint;
  /** Seconds left. Only the primary knows; elsewhere this is the checkpointed or granted TTL. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** Sorted attached keys when asked for, else empty. */
  readonly keys: Uint8Array[];
}

export interface Checkpoint {
  readonly id: bigint;
  readonly remainingTtlSeconds: number;
}

interface Lease {
  readonly id: bigint;
  readonly ttlSeconds: number;
  // 0 = no checkpoint applied (or cleared by a renewal): the lease has its full ttlSeconds.
  remainingTtlSeconds: number;
  // Latin1 key strings (src/mvcc/bytes.ts). Invariant: keyLease.get(k) === id for every k here.
  readonly keys: Set<string>;
  // Defined exactly when primary. The expiry heap's time for this lease is >= expiryMs: it is
  // later once the lease has been reported expired and re-armed for a retry report.
  expiryMs: number | undefined;
}

export class Lessor {
  private readonly clock: Clock;
  private readonly minTtlSeconds: number;
  private readonly deleteKeys: DeleteKeys;
  private readonly checkpointIntervalMs: number;
  private readonly expiredRetryMs: number;

  private readonly leaseMap = new Map<bigint, Lease>();
  // etcd's itemMap: each key is attached to at most one lease.
  private readonly keyLease = new Map<string, bigint>();
  // Invariant: both heaps are empty unless primary; when primary, expiryHeap has every lease.
  private primary = false;
  private readonly expiryHeap = new LeaseHeap();
  private readonly checkpointHeap = new LeaseHeap();
  // Leases whose checkpointed remaining TTL a renewal must clear (etcd proposes Remaining_TTL 0).
  private readonly pendingClears = new Set<bigint>();

  constructor(options: LessorOptions) {
    assert(Number.isSafeInteger(options.minTtlSeconds) && options.minTtlSeconds > 0, 'Lessor: minTtlSeconds must be a positive integer');
    const cp = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    const retry = options.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    assert(cp >= 0 && Number.isFinite(cp), 'Lessor: bad checkpointIntervalMs');
    assert(retry > 0 && Number.isFinite(retry), 'Lessor: bad expiredRetryMs');
    this.clock = options.clock;
    this.minTtlSeconds = options.minTtlSeconds;
    this.deleteKeys = options.deleteKeys;
    this.checkpointIntervalMs = cp;
    this.expiredRetryMs = retry;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  get size(): number {
    return this.leaseMap.size;
  }

  // ---- applied state ------------------------------------------------------------------------

  /**
   * Creates a lease. The server assigns an id before proposing, so id 0 here is rejected the way
   * etcd's lessor rejects NoLease (LeaseNotFound).
   */
  grant(id: bigint, ttlSeconds: number): LeaseInfo {
    assert(id >= INT64_MIN && id <= INT64_MAX, 'grant: id outside int64');
    assert(Number.isSafeInteger(ttlSeconds), 'grant: ttlSeconds must be a safe integer');
    if (id === 0n) throw etcdError('LeaseNotFound');
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw etcdError('LeaseTTLTooLarge');
    if (this.leaseMap.has(id)) throw etcdError('LeaseExist');
    const lease: Lease = { id, ttlSeconds: Math.max(ttlSeconds, this.minTtlSeconds), remainingTtlSeconds: 0, keys: new Set(), expiryMs: undefined };
    this.leaseMap.set(id, lease);
    if (this.primary) {
      this.refresh(lease, 0);
      this.scheduleCheckpointIfNeeded(lease);
    }
    return this.info(lease);
  }

  /** Deletes the lease and, in one deleteKeys call, its attached keys (sorted, as etcd does). */
  revoke(id: bigint): void {
    const lease = this.mustGet(id);
    const keys = [...lease.keys].sort();
    // Keys go first: if the callback throws, the lease stays and the revoke can be retried.
    if (keys.length > 0) this.deleteKeys(keys.map(keyBytes), id);
    for (const k of keys) this.keyLease.delete(k);
    this.leaseMap.delete(id);
    this.expiryHeap.delete(id);
    this.checkpointHeap.delete(id);
    this.pendingClears.delete(id);
  }

  /** Attaches `key` to lease `id`, moving it off any other lease it was attached to. */
  attach(id: bigint, key: Uint8Array): void {
    const lease = this.mustGet(id);
    const k = keyString(key);
    const previous = this.keyLease.get(k);
    if (previous !== undefined && previous !== id) this.leaseMap.get(previous)?.keys.delete(k);
    lease.keys.add(k);
    this.keyLease.set(k, id);
  }

  /** Detaches `key` from lease `id`; a key that isn't attached to it is left alone. */
  detach(id: bigint, key: Uint8Array): void {
    const lease = this.mustGet(id);
    const k = keyString(key);
    if (lease.keys.delete(k)) this.keyLease.delete(k);
  }

  /** The lease `key` is attached to (etcd's GetLease), or 0n. */
  leaseOf(key: Uint8Array): bigint {
    return this.keyLease.get(keyString(key)) ?? 0n;
  }

  /**
   * Applies a checkpointed remaining TTL. As in etcd it only records it (promote() turns it into
   * an expiry) and ignores a lease that is gone: a revoke can be ordered before the checkpoint.
   */
  checkpoint(id: bigint, remainingTtlSeconds: number): void {
    assert(Number.isSafeInteger(remainingTtlSeconds) && remainingTtlSeconds >= 0, 'checkpoint: bad remaining TTL');
    const lease = this.leaseMap.get(id);
    if (lease === undefined) return;
    lease.remainingTtlSeconds = remainingTtlSeconds;
    if (this.primary) this.scheduleCheckpointIfNeeded(lease);
  }

  lookup(id: bigint): LeaseInfo | undefined {
    const lease = this.leaseMap.get(id);
    return lease === undefined ? undefined : this.info(lease);
  }

  /** All leases, by id. */
  leases(): LeaseInfo[] {
    return [...this.leaseMap.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((l) => this.info(l));
  }

  timeToLive(id: bigint, withKeys: boolean): TimeToLive {
    const lease = this.mustGet(id);
    const expiryMs = lease.expiryMs;
    const ttlSeconds =
      expiryMs === undefined ? this.effectiveTtlSeconds(lease) : Math.max(0, Math.floor((expiryMs - this.clock.nowMs()) / 1000));
    return { id, ttlSeconds, grantedTtlSeconds: lease.ttlSeconds, keys: withKeys ? [...lease.keys].sort().map(keyBytes) : [] };
  }

  // ---- leader-only timing -------------------------------------------------------------------

  /**
   * This member became leader: track every lease, expiring at now + extendMs + its remaining
   * TTL. extendMs covers the election, so no lease expires because leadership moved.
   */
  promote(extendMs: number): void {
    assert(extendMs >= 0 && Number.isFinite(extendMs), 'promote: bad extendMs');
    this.primary = true;
    this.expiryHeap.clear();
    this.checkpointHeap.clear();
    this.pendingClears.clear();
    for (const lease of this.leaseMap.values()) {
      this.refresh(lease, extendMs);
      this.scheduleCheckpointIfNeeded(lease);
    }
  }

  /** No longer leader: stop tracking expiry (the next leader's promote() takes over). */
  demote(): void {
    this.primary = false;
    this.expiryHeap.clear();
    this.checkpointHeap.clear();
    this.pendingClears.clear();
    for (const lease of this.leaseMap.values()) lease.expiryMs = undefined;
  }

  /** Keepalive: extends the lease to now + ttl and returns the ttl. Primary only. */
  renew(id: bigint): number {
    if (!this.primary) throw etcdError('NotLeader');
    const lease = this.mustGet(id);
    const expiryMs = lease.expiryMs;
    assert(expiryMs !== undefined, 'renew: primary lease not tracked');
    // Expired but not revoked yet: the revoke is on its way through raft (etcd waits for it
    // and then answers LeaseNotFound).
    if (expiryMs <= this.clock.nowMs()) throw etcdError('LeaseNotFound');
    if (lease.remainingTtlSeconds > 0) {
      // Followers must forget the old checkpoint too, or a later leader would cut this renewal short.
      lease.remainingTtlSeconds = 0;
      this.pendingClears.add(id);
    }
    this.refresh(lease, 0);
    this.scheduleCheckpointIfNeeded(lease);
    return lease.ttlSeconds;
  }

  /**
   * Up to `limit` leases whose expiry has passed, earliest first. Each is re-armed for
   * expiredRetryMs so it is reported again if its revoke gets lost. O(limit · log n).
   */
  expired(limit: number): LeaseInfo[] {
    assert(Number.isSafeInteger(limit) && limit > 0, 'expired: limit must be a positive integer');
    if (!this.primary) return [];
    const nowMs = this.clock.nowMs();
    const out: LeaseInfo[] = [];
    for (let i = 0; i < limit; i++) {
      const top = this.expiryHeap.peek();
      if (top === undefined || top.atMs > nowMs) break;
      const lease = this.leaseMap.get(top.id);
      assert(lease?.expiryMs !== undefined && lease.expiryMs <= top.atMs, 'expired: heap holds an untracked lease');
      out.push(this.info(lease));
      this.expiryHeap.set(top.id, nowMs + this.expiredRetryMs);
    }
    return out;
  }

  /**
   * Up to `limit` remaining TTLs to persist through raft: renewals that cleared a checkpoint,
   * then long leases whose checkpoint is due. O(limit · log n).
   */
  checkpoints(limit: number): Checkpoint[] {
    assert(Number.isSafeInteger(limit) && limit > 0, 'checkpoints: limit must be a positive integer');
    if (!this.primary) return [];
    const out: Checkpoint[] = [];
    for (const id of this.pendingClears) {
      if (out.length >= limit) return out;
      this.pendingClears.delete(id);
      out.push({ id, remainingTtlSeconds: 0 });
    }
    const nowMs = this.clock.nowMs();
    // Each step pops one entry, so this loop runs at most `limit` + (skipped) times; skipped
    // entries are bounded by the same limit to keep the work per call bounded.
    for (let steps = 0; steps < limit && out.length < limit; steps++) {
      const top = this.checkpointHeap.peek();
      if (top === undefined || top.atMs > nowMs) break;
      this.checkpointHeap.pop();
      const lease = this.leaseMap.get(top.id);
      const expiryMs = lease?.expiryMs;
      assert(lease !== undefined && expiryMs !== undefined, 'checkpoints: heap holds an untracked lease');
      const remainingTtlSeconds = Math.ceil((expiryMs - nowMs) / 1000);
      // Nothing to save when the lease still has its whole TTL (etcd skips these too), and an
      // expired lease is being revoked: a 0 would even mean "full TTL" to a checkpoint.
      if (remainingTtlSeconds >= lease.ttlSeconds || remainingTtlSeconds <= 0) continue;
      // Applying the checkpoint reschedules the next one (scheduleCheckpointIfNeeded).
      out.push({ id: top.id, remainingTtlSeconds });
    }
    return out;
  }

  /** Checks cross-structure invariants in O(n); for tests. */
  checkInvariants(): void {
    this.expiryHeap.checkInvariants();
    this.checkpointHeap.checkInvariants();
    let attached = 0;
    for (const lease of this.leaseMap.values()) {
      for (const k of lease.keys) assert(this.keyLease.get(k) === lease.id, 'lessor: key index out of date');
      attached += lease.keys.size;
      assert(lease.ttlSeconds >= this.minTtlSeconds, 'lessor: ttl below minimum');
      if (this.primary) {
        const atMs = this.expiryHeap.atMsOf(lease.id);
        assert(lease.expiryMs !== undefined && atMs !== undefined && atMs >= lease.expiryMs, 'lessor: primary lease not tracked');
      } else {
        assert(lease.expiryMs === undefined, 'lessor: non-primary lease has an expiry');
      }
    }
    assert(attached === this.keyLease.size, 'lessor: key index has extra keys');
    if (!this.primary) assert(this.expiryHeap.size === 0 && this.checkpointHeap.size === 0, 'lessor: non-primary tracks expiry');
    assert(this.expiryHeap.size <= this.leaseMap.size, 'lessor: expiry heap has extra leases');
  }

  // ---- internals ----------------------------------------------------------------------------

  private mustGet(id: bigint): Lease {
    const lease = this.leaseMap.get(id);
    if (lease === undefined) throw etcdError('LeaseNotFound');
    return lease;
  }

  private effectiveTtlSeconds(lease: Lease): number {
    return lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds;
  }

  private refresh(lease: Lease, extendMs: number): void {
    assert(this.primary, 'refresh: not primary');
    lease.expiryMs = this.clock.nowMs() + extendMs + this.effectiveTtlSeconds(lease) * 1000;
    this.expiryHeap.set(lease.id, lease.expiryMs);
  }

  private scheduleCheckpointIfNeeded(lease: Lease): void {
    if (this.checkpointIntervalMs <= 0) return;
    if (this.effectiveTtlSeconds(lease) * 1000 > this.checkpointIntervalMs) {
      this.checkpointHeap.set(lease.id, this.clock.nowMs() + this.checkpointIntervalMs);
    } else {
      this.checkpointHeap.delete(lease.id);
    }
  }

  private info(lease: Lease): LeaseInfo {
    return {
      id: lease.id,
      ttlSeconds: lease.ttlSeconds,
      remainingTtlSeconds: lease.remainingTtlSeconds,
      expiryMs: lease.expiryMs,
      keyCount: lease.keys.size,
    };
  }
}
