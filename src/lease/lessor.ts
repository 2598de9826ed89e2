/**
 * The lessor: etcd's lease table (server/lease/lessor.go) as a synchronous library.
 *
 * Two kinds of input, kept apart on purpose:
 * - Applied state (grant, revoke, attach, detach, checkpoint): called by the apply loop in log
 *   order on every member, so every member has the same leases and attachments.
 * - Leader-only timing (promote, demote, renew, expired, checkpoints): only the primary (the
 *   raft leader) decides expiry. It never revokes on its own; `expired()` reports leases whose
 *   time is up and the server proposes their revocation through raft, like etcd's expiredC.
 *
 * Every member also keeps a deadline per lease on its own clock: when it applied the grant, or
 * the last checkpoint, plus the TTL remaining then. The primary checkpoints the leases it renewed
 * (`checkpoints()`), so a new leader starts from when the lease really runs out instead of giving
 * every lease its whole TTL again (etcd's lease checkpoints, taken on renewal rather than only
 * for long leases). As in etcd, promote() still grants at least `extend` (an election timeout)
 * so that clients cut off by the election can reach the new leader before their lease ends.
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
  // Leases renewed since their last checkpoint (primary only).
  private readonly renewed = new Set<bigint>();

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
    this.renewed.delete(id);
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
   * Applies a checkpointed remaining TTL: the deadline becomes now + remainingMs. The primary's
   * own expiry stays (it may have renewed since proposing). A lease that is gone is ignored: a
   * revoke can be ordered before the checkpoint.
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
   * This member became leader: track every lease, expiring at its deadline but no sooner than
   * now + extendMs (the election may have kept clients from renewing).
   */
  promote(extendMs: number): void {
    assert(extendMs >= 0 && Number.isFinite(extendMs), 'promote: bad extendMs');
    this.primary = true;
    this.expiryHeap.clear();
    this.renewed.clear();
    const floor = this.clock.nowMs() + extendMs;
    // Already primary (promoted twice): what it tracks is newer than the deadline.
    for (const lease of this.leaseMap.values()) this.track(lease, Math.max(lease.expiryMs ?? lease.deadlineMs, floor));
  }

  /** No longer leader: stop tracking expiry; what it knew becomes its deadline. */
  demote(): void {
    this.primary = false;
    this.expiryHeap.clear();
    this.renewed.clear();
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
    this.renewed.add(id);
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
   * Up to `limit` remaining times of leases renewed since their last checkpoint, for the server
   * to persist through raft. Expired ones are skipped: their revoke is on its way.
   */
  checkpoints(limit: number): Checkpoint[] {
    assert(Number.isSafeInteger(limit) && limit > 0, 'checkpoints: limit must be a positive integer');
    const out: Checkpoint[] = [];
    const nowMs = this.clock.nowMs();
    for (const id of this.renewed) {
      if (out.length >= limit) break;
      this.renewed.delete(id);
      const expiryMs = this.leaseMap.get(id)?.expiryMs;
      assert(expiryMs !== undefined, 'checkpoints: a renewed lease is not tracked');
      if (expiryMs > nowMs) out.push({ id, remainingMs: expiryMs - nowMs });
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
    if (!this.primary) assert(this.expiryHeap.size === 0 && this.renewed.size === 0, 'lessor: non-primary tracks expiry');
    assert(this.expiryHeap.size <= this.leaseMap.size, 'lessor: expiry heap has extra leases');
    for (const id of this.renewed) assert(this.leaseMap.has(id), 'lessor: renewed set has a revoked lease');
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
