/**
 * The lessor: etcd's lease table (server/lease/lessor.go) as a synchronous library.
 *
 * Two kinds of input, kept apart on purpose:
 * - Applied state (grant, revoke, attach, detach, checkpoint): called by the apply loop in log
 *   order on every member, so every member has the same leases and attachments.
 * - Leader-only timing (promote, demote, renew, expired): only the primary (the
 *   raft leader) decides expiry. It never revokes on its own; `expired()` reports leases whose
 *   time is up and the server proposes their revocation through raft, like etcd's expiredC.
 *
 * Every member also keeps a deadline per lease on its own clock: when it applied the grant (or a
 * checkpoint) plus the TTL remaining then. As in etcd 3.4 (lease checkpointing off, its
 * default), renewals are kept in the primary's memory only, and a new leader gives every lease
 * its whole TTL again, plus an election timeout, from when it takes over: a renewal the old
 * leader answered is never cut short, because the server answers a keep-alive only after a
 * ReadIndex round confirmed it still leads (etcd 3.5's ensureLeadership), so it happened before
 * any later leader took over. The cost, as in etcd: a lease whose client is gone can outlive
 * its TTL by the time the election took, plus that timeout.
 *
 * The lessor never touches mvcc: revoking is keys() (the server deletes them in one revision),
 * then revoke().
 */
import { etcdError } from '../errors.js';
import { keyBytes, keyString } from '../mvcc/bytes.js';
import { assert } from '../util/index.js';
import { LeaseHeap } from './lease-heap.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds (~285 years). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;
/** etcd's expiredLeaseRetryInterval: an expired lease not yet revoked is reported again after this. */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export interface Clock {
  nowMs(): number;
}

export interface LessorOptions {
  readonly clock: Clock;
  /** Leases shorter than this are raised to it; see minLeaseTtlSeconds(). */
  readonly minTtlSeconds: number;
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
  /** When the lease runs out by this member's clock: the primary's expiry, else the deadline. */
  readonly deadlineMs: number;
  /** Whether the primary tracks it (false on other members). */
  readonly tracked: boolean;
  readonly keyCount: number;
}

export interface TimeToLive {
  readonly id: bigint;
  /** Whole seconds left (0 once past). Exact on the primary; elsewhere as of the last checkpoint. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** Sorted attached keys when asked for, else empty. */
  readonly keys: Uint8Array[];
}

/** A remaining TTL to persist through raft (applied with checkpoint()). */
export interface Checkpoint {
  readonly id: bigint;
  readonly remainingMs: number;
}

interface Lease {
  readonly id: bigint;
  readonly ttlSeconds: number;
  // On every member: applied grant or checkpoint time + the TTL remaining then (this clock).
  deadlineMs: number;
  // Latin1 key strings (src/mvcc/bytes.ts). Invariant: keyLease.get(k) === id for every k here.
  readonly keys: Set<string>;
  // Defined exactly when primary: when the lease runs out. The expiry heap's time for this lease
  // is >= expiryMs: later once it has been reported expired and re-armed for a retry report.
  expiryMs: number | undefined;
}

export class Lessor {
  private readonly clock: Clock;
  private readonly minTtlSeconds: number;
  private readonly expiredRetryMs: number;

  private readonly leaseMap = new Map<bigint, Lease>();
  // etcd's itemMap: each key is attached to at most one lease.
  private readonly keyLease = new Map<string, bigint>();
  // Invariant: empty unless primary; when primary, it has every lease.
  private primary = false;
  private readonly expiryHeap = new LeaseHeap();

  constructor(options: LessorOptions) {
    assert(Number.isSafeInteger(options.minTtlSeconds) && options.minTtlSeconds > 0, 'Lessor: minTtlSeconds must be a positive integer');
    const retry = options.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    assert(retry > 0 && Number.isFinite(retry), 'Lessor: bad expiredRetryMs');
    this.clock = options.clock;
    this.minTtlSeconds = options.minTtlSeconds;
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
   * etcd's lessor rejects NoLease (LeaseNotFound). `remainingMs` restores a lease persisted
   * with less than its TTL left (default: the whole TTL).
   */
  grant(id: bigint, ttlSeconds: number, remainingMs?: number): LeaseInfo {
    assert(id >= INT64_MIN && id <= INT64_MAX, 'grant: id outside int64');
    assert(Number.isSafeInteger(ttlSeconds), 'grant: ttlSeconds must be a safe integer');
    if (id === 0n) throw etcdError('LeaseNotFound');
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw etcdError('LeaseTTLTooLarge');
    if (this.leaseMap.has(id)) throw etcdError('LeaseExist');
    const ttl = Math.max(ttlSeconds, this.minTtlSeconds);
    assert(remainingMs === undefined || (Number.isFinite(remainingMs) && remainingMs >= 0), 'grant: bad remainingMs');
    const deadlineMs = this.clock.nowMs() + (remainingMs ?? ttl * 1000);
    const lease: Lease = { id, ttlSeconds: ttl, deadlineMs, keys: new Set(), expiryMs: undefined };
    this.leaseMap.set(id, lease);
    if (this.primary) this.track(lease, deadlineMs);
    return this.info(lease);
  }

  /** The keys attached to a lease, sorted (what revoking it deletes, in one revision). */
  keys(id: bigint): Uint8Array[] {
    return [...this.mustGet(id).keys].sort().map(keyBytes);
  }

  /** Deletes the lease and detaches its keys (the server has deleted them: see keys()). */
  revoke(id: bigint): void {
    const lease = this.mustGet(id);
    for (const k of lease.keys) this.keyLease.delete(k);
    this.leaseMap.delete(id);
    this.expiryHeap.delete(id);
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
   * Applies a checkpointed remaining TTL (etcd's LeaseCheckpoint): the deadline becomes now +
   * remainingMs. This server proposes none; logs written before renewals moved to the leader's
   * memory carry them. The primary's own expiry stays. A lease that is gone is ignored: a revoke
   * can be ordered before the checkpoint.
   */
  checkpoint(id: bigint, remainingMs: number): void {
    assert(Number.isFinite(remainingMs) && remainingMs >= 0, 'checkpoint: bad remaining time');
    const lease = this.leaseMap.get(id);
    if (lease === undefined) return;
    lease.deadlineMs = this.clock.nowMs() + remainingMs;
  }

  lookup(id: bigint): LeaseInfo | undefined {
    const lease = this.leaseMap.get(id);
    return lease === undefined ? undefined : this.info(lease);
  }

  /** All leases, by id. */
  leases(): LeaseInfo[] {
    return [...this.leaseMap.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((l) => this.info(l));
  }

  /** Milliseconds left by this member's knowledge (negative once past). */
  remainingMs(id: bigint): number {
    const lease = this.mustGet(id);
    return (lease.expiryMs ?? lease.deadlineMs) - this.clock.nowMs();
  }

  timeToLive(id: bigint, withKeys: boolean): TimeToLive {
    const lease = this.mustGet(id);
    const ttlSeconds = Math.max(0, Math.floor(this.remainingMs(id) / 1000));
    return { id, ttlSeconds, grantedTtlSeconds: lease.ttlSeconds, keys: withKeys ? this.keys(id) : [] };
  }

  // ---- leader-only timing -------------------------------------------------------------------

  /**
   * This member became leader: track every lease at now + its whole TTL + extendMs (etcd's
   * Promote: the old leader's renewals died with it, and clients cut off by the election need
   * time to reach this one). Promoted twice (already primary): what it tracks stays.
   */
  promote(extendMs: number): void {
    assert(extendMs >= 0 && Number.isFinite(extendMs), 'promote: bad extendMs');
    if (this.primary) return;
    this.primary = true;
    this.expiryHeap.clear();
    const nowMs = this.clock.nowMs();
    for (const lease of this.leaseMap.values()) this.track(lease, nowMs + extendMs + lease.ttlSeconds * 1000);
  }

  /** No longer leader: stop tracking expiry; what it knew becomes its deadline. */
  demote(): void {
    this.primary = false;
    this.expiryHeap.clear();
    for (const lease of this.leaseMap.values()) {
      if (lease.expiryMs !== undefined) lease.deadlineMs = lease.expiryMs;
      lease.expiryMs = undefined;
    }
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
    this.track(lease, this.clock.nowMs() + lease.ttlSeconds * 1000);
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

  /** Checks cross-structure invariants in O(n); for tests. */
  checkInvariants(): void {
    this.expiryHeap.checkInvariants();
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
    if (!this.primary) assert(this.expiryHeap.size === 0, 'lessor: non-primary tracks expiry');
    assert(this.expiryHeap.size <= this.leaseMap.size, 'lessor: expiry heap has extra leases');
  }

  // ---- internals ----------------------------------------------------------------------------

  private mustGet(id: bigint): Lease {
    const lease = this.leaseMap.get(id);
    if (lease === undefined) throw etcdError('LeaseNotFound');
    return lease;
  }

  private track(lease: Lease, expiryMs: number): void {
    assert(this.primary, 'track: not primary');
    lease.expiryMs = expiryMs;
    this.expiryHeap.set(lease.id, expiryMs);
  }

  private info(lease: Lease): LeaseInfo {
    return {
      id: lease.id,
      ttlSeconds: lease.ttlSeconds,
      deadlineMs: lease.expiryMs ?? lease.deadlineMs,
      tracked: lease.expiryMs !== undefined,
      keyCount: lease.keys.size,
    };
  }
}
