import { describe, expect, it } from 'vitest';
import { EtcdError, isEtcdError } from '../../src/errors.js';
import { MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from '../../src/lease/index.js';
import { b, newLessor, revokeWithKeys, str } from './helpers.js';

function thrown(f: () => unknown): EtcdError {
  try {
    f();
  } catch (e) {
    if (e instanceof EtcdError) return e;
    throw e;
  }
  throw new Error('expected an EtcdError');
}

describe('lessor: applied state', () => {
  it('grants, attaches, detaches and revokes through keys() then revoke()', () => {
    const { lessor, clock } = newLessor();
    expect(lessor.grant(1n, 10)).toEqual({ id: 1n, ttlSeconds: 10, deadlineMs: clock.ms + 10_000, tracked: false, keyCount: 0 });
    lessor.grant(2n, 20);
    lessor.attach(1n, b('b'));
    lessor.attach(1n, b('a'));
    lessor.attach(1n, b('c'));
    lessor.attach(2n, b('x'));
    lessor.detach(1n, b('c'));
    lessor.detach(1n, b('not-attached'));
    lessor.detach(1n, b('x')); // attached, but to another lease: left alone
    expect(lessor.leaseOf(b('a'))).toBe(1n);
    expect(lessor.leaseOf(b('c'))).toBe(0n);
    expect(lessor.leaseOf(b('x'))).toBe(2n);
    expect(lessor.keys(1n).map(str)).toEqual(['a', 'b']);
    expect(lessor.timeToLive(1n, true).keys.map(str)).toEqual(['a', 'b']);
    expect(lessor.timeToLive(1n, false).keys).toEqual([]);
    expect(lessor.leases().map((l) => [l.id, l.keyCount])).toEqual([
      [1n, 2],
      [2n, 1],
    ]);
    lessor.checkInvariants();

    expect(revokeWithKeys(lessor, 1n)).toEqual(['a', 'b']);
    expect(lessor.lookup(1n)).toBeUndefined();
    expect(lessor.leaseOf(b('a'))).toBe(0n);
    expect(lessor.leaseOf(b('x'))).toBe(2n);
    expect(lessor.size).toBe(1);
    lessor.checkInvariants();
  });

  it('a lease without keys has nothing to delete', () => {
    const { lessor } = newLessor();
    lessor.grant(5n, 10);
    expect(revokeWithKeys(lessor, 5n)).toEqual([]);
    expect(lessor.size).toBe(0);
  });

  it('keys() leaves the lease in place, so a revoke whose delete failed can be retried', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 5);
    lessor.attach(1n, b('k'));
    expect(lessor.keys(1n).map(str)).toEqual(['k']);
    expect(lessor.lookup(1n)?.keyCount).toBe(1);
    expect(lessor.leaseOf(b('k'))).toBe(1n);
    expect(revokeWithKeys(lessor, 1n)).toEqual(['k']);
    expect(lessor.size).toBe(0);
  });

  it('moves a key attached to another lease (a key has at most one lease)', () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 10);
    lessor.grant(2n, 10);
    lessor.attach(1n, b('k'));
    lessor.attach(2n, b('k'));
    expect(lessor.leaseOf(b('k'))).toBe(2n);
    expect(lessor.lookup(1n)?.keyCount).toBe(0);
    lessor.checkInvariants();
    expect(revokeWithKeys(lessor, 1n)).toEqual([]);
    expect(lessor.leaseOf(b('k'))).toBe(2n);
    expect(revokeWithKeys(lessor, 2n)).toEqual(['k']);
    lessor.checkInvariants();
  });

  it('raises a TTL below the minimum to the minimum', () => {
    const { lessor, clock } = newLessor({ minTtlSeconds: 5 });
    expect(lessor.grant(1n, 1)).toMatchObject({ ttlSeconds: 5, deadlineMs: clock.ms + 5000 });
    expect(lessor.grant(2n, 0).ttlSeconds).toBe(5);
    expect(lessor.grant(3n, -7).ttlSeconds).toBe(5);
    expect(lessor.grant(4n, 6).ttlSeconds).toBe(6);
    expect(lessor.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 5, grantedTtlSeconds: 5 });
  });

  it("computes etcd's minimum TTL: 1.5 election timeouts, rounded up to seconds", () => {
    expect(minLeaseTtlSeconds(10, 100)).toBe(2); // 1500 ms
    expect(minLeaseTtlSeconds(10, 200)).toBe(3); // 3000 ms
    expect(minLeaseTtlSeconds(5, 100)).toBe(1); // 7*100 = 700 ms (integer 3*5/2, as etcd)
  });

  it("throws catalog errors with etcd's texts", () => {
    const { lessor } = newLessor();
    lessor.grant(1n, 10);
    const exist = thrown(() => lessor.grant(1n, 10));
    expect(exist.code).toBe('LeaseExist');
    expect(exist.message).toBe('etcdserver: lease already exists');
    const large = thrown(() => lessor.grant(2n, MAX_LEASE_TTL_SECONDS + 1));
    expect(large.code).toBe('LeaseTTLTooLarge');
    expect(large.message).toBe('etcdserver: too large lease TTL');
    expect(lessor.grant(3n, MAX_LEASE_TTL_SECONDS).ttlSeconds).toBe(MAX_LEASE_TTL_SECONDS);
    for (const f of [
      () => lessor.keys(9n),
      () => lessor.revoke(9n),
      () => lessor.attach(9n, b('k')),
      () => lessor.detach(9n, b('k')),
      () => lessor.timeToLive(9n, true),
      () => lessor.remainingMs(9n),
      () => lessor.grant(0n, 10),
    ]) {
      const e = thrown(f);
      expect(isEtcdError(e, 'LeaseNotFound')).toBe(true);
      expect(e.message).toBe('etcdserver: requested lease not found');
    }
    const notLeader = thrown(() => lessor.renew(1n));
    expect(notLeader.code).toBe('NotLeader');
    expect(notLeader.message).toBe('etcdserver: not leader');
    lessor.promote(0);
    expect(thrown(() => lessor.renew(9n)).code).toBe('LeaseNotFound');
  });

  it('ignores a checkpoint for a lease that is gone (a revoke can come first in the log)', () => {
    const { lessor } = newLessor();
    lessor.checkpoint(42n, 5000);
    expect(lessor.size).toBe(0);
    lessor.checkInvariants();
  });

  it("a follower's deadline is its grant apply time + ttl, and nothing expires on it", () => {
    const { lessor, clock } = newLessor();
    const grantedAt = clock.ms;
    lessor.grant(1n, 10);
    clock.advance(4000);
    lessor.grant(2n, 10);
    expect(lessor.lookup(1n)).toEqual({ id: 1n, ttlSeconds: 10, deadlineMs: grantedAt + 10_000, tracked: false, keyCount: 0 });
    expect(lessor.lookup(2n)?.deadlineMs).toBe(grantedAt + 14_000);
    expect(lessor.remainingMs(1n)).toBe(6000);
    expect(lessor.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 6, grantedTtlSeconds: 10 });
    clock.advance(60_000);
    expect(lessor.remainingMs(1n)).toBe(-54_000);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(0);
    expect(lessor.expired(10)).toEqual([]);
    expect(lessor.size).toBe(2);
    lessor.checkInvariants();
  });

  it('a checkpoint moves the deadline of a non-primary to apply time + remainingMs', () => {
    const { lessor, clock } = newLessor();
    lessor.grant(1n, 600);
    clock.advance(100_000);
    lessor.checkpoint(1n, 30_000);
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: clock.ms + 30_000, tracked: false });
    expect(lessor.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 30, grantedTtlSeconds: 600 });
    // A later checkpoint may also push it out (the primary renewed in between).
    clock.advance(20_000);
    lessor.checkpoint(1n, 600_000);
    expect(lessor.remainingMs(1n)).toBe(600_000);
    lessor.checkpoint(1n, 0);
    expect(lessor.remainingMs(1n)).toBe(0);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(0);
    lessor.checkInvariants();
  });

  it('timeToLive floors to whole seconds and is 0 once past', () => {
    const { lessor, clock } = newLessor();
    lessor.grant(1n, 10);
    for (const [advanceMs, seconds] of [
      [1, 9], // 9999 ms left
      [8999, 1], // 1000 ms
      [1, 0], // 999 ms
      [999, 0], // 0 ms
      [5000, 0], // -5000 ms
    ] as const) {
      clock.advance(advanceMs);
      expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(seconds);
    }
    expect(lessor.remainingMs(1n)).toBe(-5000);
    // The same on the primary, from its expiry.
    lessor.promote(1000);
    lessor.renew(1n);
    clock.advance(2500);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(7);
    clock.advance(7500);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(0);
  });

  it('grant(id, ttl, remainingMs) restores a persisted lease with what it had left', () => {
    const { lessor, clock } = newLessor();
    expect(lessor.grant(1n, 600, 42_500)).toEqual({ id: 1n, ttlSeconds: 600, deadlineMs: clock.ms + 42_500, tracked: false, keyCount: 0 });
    expect(lessor.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 42, grantedTtlSeconds: 600 });
    lessor.grant(2n, 1, 0); // ran out just as it was persisted; the TTL is still raised to the minimum
    expect(lessor.lookup(2n)).toMatchObject({ ttlSeconds: 2, deadlineMs: clock.ms });

    // Promoting gives the restored leases their whole TTL + extend, not what they had left.
    clock.advance(1000);
    lessor.promote(5000);
    expect(lessor.leases().map((l) => [l.id, l.deadlineMs, l.tracked])).toEqual([
      [1n, clock.ms + 5000 + 600_000, true],
      [2n, clock.ms + 5000 + 2000, true],
    ]);
    // Restored on the primary, a lease is tracked at what it had left, without the extend.
    lessor.grant(3n, 100, 1500);
    expect(lessor.lookup(3n)).toMatchObject({ deadlineMs: clock.ms + 1500, tracked: true });
    clock.advance(1500);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([3n]);
    lessor.checkInvariants();
  });

  it('a restarted member restores leases with their remaining time, and leading gives each its whole TTL again', () => {
    const { lessor: old, clock } = newLessor();
    old.promote(0);
    old.grant(1n, 600);
    old.grant(2n, 90);
    clock.advance(60_000);
    old.renew(2n);
    // What it persisted: id, ttl and remaining time.
    const persisted = old.leases().map((l) => ({ id: l.id, ttl: l.ttlSeconds, remainingMs: old.remainingMs(l.id) }));
    expect(persisted).toEqual([
      { id: 1n, ttl: 600, remainingMs: 540_000 },
      { id: 2n, ttl: 90, remainingMs: 90_000 },
    ]);

    clock.advance(1000); // the restart takes a second
    const { lessor: restarted } = newLessor({}, clock);
    for (const p of persisted) restarted.grant(p.id, p.ttl, p.remainingMs);
    expect(restarted.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 540, grantedTtlSeconds: 600 });
    expect(restarted.remainingMs(2n)).toBe(90_000);
    restarted.promote(2000);
    expect(restarted.lookup(1n)?.deadlineMs).toBe(clock.ms + 602_000);
    expect(restarted.lookup(2n)?.deadlineMs).toBe(clock.ms + 92_000);
    expect(restarted.timeToLive(1n, false).ttlSeconds).toBe(602);
    clock.advance(91_999);
    expect(restarted.expired(10)).toEqual([]);
    clock.advance(1);
    expect(restarted.expired(10).map((l) => l.id)).toEqual([2n]);
    revokeWithKeys(restarted, 2n);
    clock.advance(509_999);
    expect(restarted.expired(10)).toEqual([]);
    clock.advance(1);
    expect(restarted.expired(10).map((l) => l.id)).toEqual([1n]);
    restarted.checkInvariants();
  });
});

describe('lessor: leader-only timing', () => {
  it('reports expired leases earliest first from the heap, with many leases', () => {
    const { lessor, clock } = newLessor({ minTtlSeconds: 1 });
    lessor.promote(0);
    // TTLs in a scrambled order: lease i gets ttl ((i * 37) % 500) + 1.
    const n = 500;
    for (let i = 1; i <= n; i++) lessor.grant(BigInt(i), ((i * 37) % n) + 1);
    lessor.checkInvariants();
    const order: bigint[] = [];
    for (let s = 0; s <= n; s++) {
      clock.advance(1000);
      for (const l of lessor.expired(1000)) {
        order.push(l.id);
        revokeWithKeys(lessor, l.id);
      }
    }
    expect(order.length).toBe(n);
    const ttl = (id: bigint): number => ((Number(id) * 37) % n) + 1;
    for (let i = 1; i < order.length; i++) expect(ttl(order[i - 1]!)).toBeLessThanOrEqual(ttl(order[i]!));
    lessor.checkInvariants();
  });

  it('reports nothing before the expiry, the lease once it passes, and again after the retry interval', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    expect(lessor.grant(1n, 10)).toMatchObject({ deadlineMs: clock.ms + 10_000, tracked: true });
    clock.advance(9999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    const [reported] = lessor.expired(10);
    expect(reported).toEqual({ id: 1n, ttlSeconds: 10, deadlineMs: clock.ms, tracked: true, keyCount: 0 });
    // Not reported again until the retry interval passes (the revoke is on its way through raft).
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(2999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
    lessor.checkInvariants();
  });

  it('re-arms with a custom expiredRetryMs', () => {
    const { lessor, clock } = newLessor({ expiredRetryMs: 500 });
    lessor.promote(0);
    lessor.grant(1n, 2);
    clock.advance(2000);
    expect(lessor.expired(10)).toHaveLength(1);
    clock.advance(499);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10)).toHaveLength(1);
  });

  it('bounds the work of one expired() call by its limit', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    for (let i = 1; i <= 100; i++) lessor.grant(BigInt(i), 5);
    clock.advance(10_000);
    const seen: bigint[] = [];
    for (let call = 0; call < 10; call++) {
      const batch = lessor.expired(10);
      expect(batch.length).toBe(10);
      seen.push(...batch.map((l) => l.id));
    }
    expect(lessor.expired(10)).toEqual([]);
    // Equal expiries come out in id order, each once.
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));
  });

  it('renew extends the lease to now + ttl', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    clock.advance(8000);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(2);
    expect(lessor.renew(1n)).toBe(10);
    expect(lessor.lookup(1n)?.deadlineMs).toBe(clock.ms + 10_000);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(10);
    clock.advance(9999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
  });

  it('renew of an expired, not yet revoked lease is LeaseNotFound, even after a retry report', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    clock.advance(9999);
    expect(lessor.renew(1n)).toBe(10); // 1 ms left: still renewable
    clock.advance(10_000);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: requested lease not found');
    expect(lessor.expired(1)).toHaveLength(1);
    clock.advance(1000);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: requested lease not found');
  });

  it('promote tracks each lease at now + extend + its whole TTL, whatever its deadline', () => {
    const { lessor, clock } = newLessor({ expiredRetryMs: 60_000 }); // no retry reports in between
    const t0 = clock.ms;
    lessor.grant(1n, 600); // far ahead: still gets the whole TTL from now
    lessor.grant(2n, 10); // almost out at promote
    lessor.grant(3n, 5); // already past at promote (a follower never expires it)
    lessor.grant(4n, 11);
    lessor.grant(5n, 10, 60_000); // restored with more than its TTL left: promote cuts it back
    clock.advance(9000);
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: t0 + 600_000, tracked: false });
    expect(lessor.lookup(5n)).toMatchObject({ deadlineMs: t0 + 60_000, tracked: false });
    lessor.promote(1500);
    expect(lessor.isPrimary).toBe(true);
    expect(lessor.leases().map((l) => [l.id, l.deadlineMs, l.tracked])).toEqual([
      [1n, clock.ms + 1500 + 600_000, true],
      [2n, clock.ms + 1500 + 10_000, true],
      [3n, clock.ms + 1500 + 5000, true],
      [4n, clock.ms + 1500 + 11_000, true],
      [5n, clock.ms + 1500 + 10_000, true],
    ]);
    expect(lessor.timeToLive(3n, false)).toMatchObject({ ttlSeconds: 6, grantedTtlSeconds: 5 });
    lessor.checkInvariants();
    const promotedAt = clock.ms;
    clock.advance(6499);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([3n]);
    clock.advance(4999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([2n, 5n]);
    clock.advance(999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([4n]);
    // Lease 1 outlives its old deadline by the extend and the time before the promote.
    clock.advance(promotedAt + 601_500 - clock.ms - 1);
    expect(clock.ms).toBeGreaterThan(t0 + 600_000);
    expect(lessor.expired(10)).toEqual([3n, 2n, 5n, 4n].map((id) => expect.objectContaining({ id })));
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
  });

  it('promote gives a checkpointed lease its whole TTL + extend, not what the checkpoint left', () => {
    const { lessor, clock } = newLessor();
    lessor.grant(1n, 600);
    clock.advance(300_000);
    lessor.checkpoint(1n, 20_000);
    clock.advance(5000);
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: clock.ms + 15_000, tracked: false });
    lessor.promote(2000);
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: clock.ms + 602_000, tracked: true });
    clock.advance(15_000);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(586_999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
  });

  it('a second promote while primary changes nothing: renewals, expiries and retry times stay', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    const t0 = clock.ms;
    lessor.grant(1n, 10);
    lessor.grant(2n, 5);
    clock.advance(3000);
    lessor.renew(1n);
    const renewedExpiryMs = clock.ms + 10_000;
    clock.advance(2000);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([2n]); // re-armed for a retry at now + 3000
    const before = lessor.leases();
    expect(before.map((l) => [l.id, l.deadlineMs])).toEqual([
      [1n, renewedExpiryMs],
      [2n, t0 + 5000],
    ]);
    lessor.promote(5000);
    expect(lessor.isPrimary).toBe(true);
    expect(lessor.leases()).toEqual(before);
    expect(lessor.remainingMs(2n)).toBe(0);
    expect(() => lessor.renew(2n)).toThrow('etcdserver: requested lease not found'); // still expired
    lessor.checkInvariants();
    clock.advance(2999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([2n]); // its retry time, not now + extend + TTL
    revokeWithKeys(lessor, 2n);
    clock.advance(renewedExpiryMs - clock.ms - 1);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
    lessor.checkInvariants();
  });

  it("a checkpoint applied on the primary leaves the primary's expiry alone", () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    clock.advance(3000);
    lessor.renew(1n);
    const expiryMs = clock.ms + 10_000;
    // A checkpoint from an older log (this server proposes none) is applied.
    lessor.checkpoint(1n, 1000);
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: expiryMs, tracked: true });
    expect(lessor.remainingMs(1n)).toBe(10_000);
    clock.advance(1000);
    expect(lessor.expired(10)).toEqual([]);
    // And a demote right after keeps the primary's expiry, not the checkpointed deadline.
    lessor.demote();
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: expiryMs, tracked: false });
    lessor.checkInvariants();
  });

  it('demote keeps what the primary knew as the deadline, and stops expiry and keepalives', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    lessor.grant(2n, 2);
    clock.advance(4000);
    lessor.renew(1n);
    const renewedExpiryMs = clock.ms + 10_000;
    const expiredAtMs = clock.ms - 2000;
    expect(lessor.expired(10).map((l) => l.id)).toEqual([2n]); // re-armed for a retry in the heap
    lessor.demote();
    expect(lessor.isPrimary).toBe(false);
    expect(lessor.leases().map((l) => [l.id, l.deadlineMs, l.tracked])).toEqual([
      [1n, renewedExpiryMs, false],
      [2n, expiredAtMs, false], // the expiry, not the retry time
    ]);
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(10);
    clock.advance(100_000);
    expect(lessor.expired(10)).toEqual([]);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: not leader');
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(0);
    lessor.checkInvariants();
  });

  it('demote then promote gives the whole TTL + extend again, not the deadline carried across', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 30);
    clock.advance(5000);
    lessor.renew(1n);
    const expiryMs = clock.ms + 30_000;
    lessor.demote();
    expect(lessor.lookup(1n)).toMatchObject({ deadlineMs: expiryMs, tracked: false });
    clock.advance(10_000);
    lessor.promote(1000);
    expect(lessor.lookup(1n)?.deadlineMs).toBe(clock.ms + 31_000); // later than expiryMs
    lessor.demote();
    clock.advance(100_000); // long past its deadline
    expect(lessor.remainingMs(1n)).toBeLessThan(0);
    lessor.promote(1000);
    expect(lessor.lookup(1n)?.deadlineMs).toBe(clock.ms + 31_000);
    lessor.checkInvariants();
  });

  it('a renewal on the old primary is not carried to a new one: it tracks now + extend + TTL', () => {
    const { lessor: leader, clock } = newLessor();
    const { lessor: follower } = newLessor({}, clock);
    const t0 = clock.ms;
    leader.promote(0);
    // The same applied state on both.
    for (const l of [leader, follower]) {
      l.grant(1n, 60);
      l.grant(2n, 60);
    }
    // Lease 1 is kept alive for 100 s on the leader; lease 2 is left alone (its revoke is lost).
    for (let s = 0; s < 10; s++) {
      clock.advance(10_000);
      expect(leader.expired(10).map((l) => l.id)).not.toContain(1n);
      leader.renew(1n);
    }
    const lastRenewalExpiryMs = clock.ms + 60_000;
    expect(leader.lookup(1n)?.deadlineMs).toBe(lastRenewalExpiryMs);
    // Nothing of the renewals reached the follower: it still has the grant's deadlines.
    expect(follower.lookup(1n)).toMatchObject({ deadlineMs: t0 + 60_000, tracked: false });
    expect(follower.lookup(2n)).toMatchObject({ deadlineMs: t0 + 60_000, tracked: false });
    // The leader is cut off and steps down; after an election the follower takes over.
    leader.demote();
    expect(leader.lookup(1n)).toMatchObject({ deadlineMs: lastRenewalExpiryMs, tracked: false });
    clock.advance(3000);
    follower.promote(2000);
    expect(follower.leases().map((l) => [l.id, l.deadlineMs, l.tracked])).toEqual([
      [1n, clock.ms + 62_000, true],
      [2n, clock.ms + 62_000, true],
    ]);
    // What the old leader answered is not cut short.
    expect(follower.lookup(1n)!.deadlineMs).toBeGreaterThan(lastRenewalExpiryMs);
    clock.advance(61_999);
    expect(follower.expired(10)).toEqual([]);
    clock.advance(1);
    expect(follower.expired(10).map((l) => l.id)).toEqual([1n, 2n]);
    follower.checkInvariants();
    leader.checkInvariants();
  });
});
