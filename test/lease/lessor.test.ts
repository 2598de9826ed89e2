import { describe, expect, it } from 'vitest';
import { EtcdError, isEtcdError } from '../../src/errors.js';
import { Lessor, MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds, type Checkpoint } from '../../src/lease/index.js';
import { FakeClock, b, newLessor, str } from './helpers.js';

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
  it('grants, attaches, detaches and revokes, deleting the keys in one sorted call', () => {
    const { lessor, deleted } = newLessor();
    expect(lessor.grant(1n, 10)).toMatchObject({ id: 1n, ttlSeconds: 10, remainingTtlSeconds: 0, expiryMs: undefined, keyCount: 0 });
    lessor.grant(2n, 20);
    lessor.attach(1n, b('b'));
    lessor.attach(1n, b('a'));
    lessor.attach(1n, b('c'));
    lessor.attach(2n, b('x'));
    lessor.detach(1n, b('c'));
    lessor.detach(1n, b('not-attached'));
    expect(lessor.leaseOf(b('a'))).toBe(1n);
    expect(lessor.leaseOf(b('c'))).toBe(0n);
    expect(lessor.timeToLive(1n, true).keys.map(str)).toEqual(['a', 'b']);
    expect(lessor.timeToLive(1n, false).keys).toEqual([]);
    expect(lessor.leases().map((l) => [l.id, l.keyCount])).toEqual([
      [1n, 2],
      [2n, 1],
    ]);
    lessor.checkInvariants();

    lessor.revoke(1n);
    expect(deleted).toEqual([{ leaseId: 1n, keys: ['a', 'b'] }]);
    expect(lessor.lookup(1n)).toBeUndefined();
    expect(lessor.leaseOf(b('a'))).toBe(0n);
    expect(lessor.size).toBe(1);
    lessor.checkInvariants();
  });

  it('does not call deleteKeys for a lease without keys', () => {
    const { lessor, deleted } = newLessor();
    lessor.grant(5n, 10);
    lessor.revoke(5n);
    expect(deleted).toEqual([]);
  });

  it('moves a key attached to another lease (a key has at most one lease)', () => {
    const { lessor, deleted } = newLessor();
    lessor.grant(1n, 10);
    lessor.grant(2n, 10);
    lessor.attach(1n, b('k'));
    lessor.attach(2n, b('k'));
    expect(lessor.leaseOf(b('k'))).toBe(2n);
    expect(lessor.lookup(1n)?.keyCount).toBe(0);
    lessor.checkInvariants();
    lessor.revoke(1n);
    expect(deleted).toEqual([]);
  });

  it('keeps the lease when deleteKeys throws, so the revoke can be retried', () => {
    const clock = new FakeClock();
    let fail = true;
    const lessor = new Lessor({
      clock,
      minTtlSeconds: 1,
      deleteKeys: () => {
        if (fail) throw new Error('disk');
      },
    });
    lessor.grant(1n, 5);
    lessor.attach(1n, b('k'));
    expect(() => lessor.revoke(1n)).toThrow('disk');
    expect(lessor.lookup(1n)?.keyCount).toBe(1);
    fail = false;
    lessor.revoke(1n);
    expect(lessor.size).toBe(0);
  });

  it('raises a TTL below the minimum to the minimum', () => {
    const { lessor } = newLessor({ minTtlSeconds: 5 });
    expect(lessor.grant(1n, 1).ttlSeconds).toBe(5);
    expect(lessor.grant(2n, 0).ttlSeconds).toBe(5);
    expect(lessor.grant(3n, -7).ttlSeconds).toBe(5);
    expect(lessor.grant(4n, 6).ttlSeconds).toBe(6);
    expect(lessor.timeToLive(1n, false).grantedTtlSeconds).toBe(5);
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
      () => lessor.revoke(9n),
      () => lessor.attach(9n, b('k')),
      () => lessor.detach(9n, b('k')),
      () => lessor.timeToLive(9n, true),
      () => lessor.grant(0n, 10),
    ]) {
      const e = thrown(f);
      expect(isEtcdError(e, 'LeaseNotFound')).toBe(true);
      expect(e.message).toBe('etcdserver: requested lease not found');
    }
    const notLeader = thrown(() => lessor.renew(1n));
    expect(notLeader.code).toBe('NotLeader');
    lessor.promote(0);
    expect(thrown(() => lessor.renew(9n)).code).toBe('LeaseNotFound');
  });

  it('ignores a checkpoint for a lease that is gone (a revoke can come first in the log)', () => {
    const { lessor } = newLessor();
    lessor.checkpoint(42n, 5);
    expect(lessor.size).toBe(0);
  });
});

describe('lessor: leader-only timing', () => {
  it('reports expired leases earliest first from the heap, with many leases', () => {
    const { lessor, clock } = newLessor({ minTtlSeconds: 1, checkpointIntervalMs: 0 });
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
        lessor.revoke(l.id);
      }
    }
    expect(order.length).toBe(n);
    const ttl = (id: bigint): number => ((Number(id) * 37) % n) + 1;
    for (let i = 1; i < order.length; i++) expect(ttl(order[i - 1]!)).toBeLessThanOrEqual(ttl(order[i]!));
    lessor.checkInvariants();
  });

  it('reports nothing before the expiry and the lease once it passes', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    clock.advance(9999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
    // Not reported again until the retry interval passes (the revoke is on its way through raft).
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(3000);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
  });

  it('bounds the work of one expired() call by its limit', () => {
    const { lessor, clock } = newLessor({ checkpointIntervalMs: 0 });
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
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(10);
    clock.advance(8000);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(2000);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
  });

  it('renew of an expired, not yet revoked lease is LeaseNotFound, even after a retry report', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    clock.advance(10_000);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: requested lease not found');
    expect(lessor.expired(1)).toHaveLength(1);
    clock.advance(1000);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: requested lease not found');
  });

  it('promote refreshes every expiry to now + extend + ttl', () => {
    const { lessor, clock } = newLessor();
    lessor.grant(1n, 10);
    lessor.grant(2n, 20);
    clock.advance(60_000); // a follower: time passes, nothing expires
    expect(lessor.lookup(1n)?.expiryMs).toBeUndefined();
    lessor.promote(1500);
    expect(lessor.lookup(1n)?.expiryMs).toBe(clock.ms + 11_500);
    expect(lessor.lookup(2n)?.expiryMs).toBe(clock.ms + 21_500);
    clock.advance(11_499);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10).map((l) => l.id)).toEqual([1n]);
    lessor.checkInvariants();
  });

  it('demote stops expiry and keepalives; a later promote starts over', () => {
    const { lessor, clock } = newLessor();
    lessor.promote(0);
    lessor.grant(1n, 10);
    lessor.demote();
    expect(lessor.isPrimary).toBe(false);
    clock.advance(100_000);
    expect(lessor.expired(10)).toEqual([]);
    expect(lessor.checkpoints(10)).toEqual([]);
    expect(() => lessor.renew(1n)).toThrow('etcdserver: not leader');
    expect(lessor.timeToLive(1n, false).ttlSeconds).toBe(10);
    lessor.checkInvariants();
    lessor.promote(0);
    clock.advance(9_999);
    expect(lessor.expired(10)).toEqual([]);
    clock.advance(1);
    expect(lessor.expired(10)).toHaveLength(1);
  });

  it('checkpoints long leases and a restarted lessor keeps the remaining TTL', () => {
    const { lessor, clock } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.promote(0);
    lessor.grant(1n, 600); // long: checkpointed
    lessor.grant(2n, 30); // shorter than the interval: never checkpointed
    clock.advance(59_999);
    expect(lessor.checkpoints(10)).toEqual([]);
    clock.advance(1);
    const cps = lessor.checkpoints(10);
    expect(cps).toEqual([{ id: 1n, remainingTtlSeconds: 540 }]);
    // The apply loop applies them through raft; that schedules the next one.
    const log: { grants: [bigint, number][]; checkpoints: Checkpoint[] } = { grants: [[1n, 600], [2n, 30]], checkpoints: [] };
    for (const cp of cps) {
      lessor.checkpoint(cp.id, cp.remainingTtlSeconds);
      log.checkpoints.push(cp);
    }
    expect(lessor.lookup(1n)?.remainingTtlSeconds).toBe(540);
    clock.advance(60_000);
    expect(lessor.checkpoints(10)).toEqual([{ id: 1n, remainingTtlSeconds: 480 }]);

    // "Restart": a new member replays the grants and checkpoints it applied, then leads.
    const restarted = newLessor({ checkpointIntervalMs: 60_000 }, clock).lessor;
    for (const [id, ttl] of log.grants) restarted.grant(id, ttl);
    for (const cp of log.checkpoints) restarted.checkpoint(cp.id, cp.remainingTtlSeconds);
    expect(restarted.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 540, grantedTtlSeconds: 600 });
    restarted.promote(2000);
    expect(restarted.lookup(1n)?.expiryMs).toBe(clock.ms + 2000 + 540_000);
    clock.advance(541_999);
    expect(restarted.expired(10).map((l) => l.id)).toEqual([2n]);
    clock.advance(1);
    expect(restarted.expired(10).map((l) => l.id)).toEqual([1n]);
    restarted.checkInvariants();
  });

  it('renew clears a checkpointed remaining TTL and asks to persist the clear', () => {
    const { lessor, clock } = newLessor({ checkpointIntervalMs: 60_000 });
    lessor.grant(1n, 600);
    lessor.checkpoint(1n, 100);
    lessor.promote(0);
    expect(lessor.lookup(1n)?.expiryMs).toBe(clock.ms + 100_000);
    clock.advance(10_000);
    expect(lessor.renew(1n)).toBe(600);
    expect(lessor.lookup(1n)).toMatchObject({ remainingTtlSeconds: 0, expiryMs: clock.ms + 600_000 });
    expect(lessor.checkpoints(10)).toEqual([{ id: 1n, remainingTtlSeconds: 0 }]);
    expect(lessor.checkpoints(10)).toEqual([]);
  });

  it('bounds the work of one checkpoints() call by its limit', () => {
    const { lessor, clock } = newLessor({ checkpointIntervalMs: 1000 });
    lessor.promote(0);
    for (let i = 1; i <= 25; i++) lessor.grant(BigInt(i), 100);
    clock.advance(1000);
    expect(lessor.checkpoints(10)).toHaveLength(10);
    expect(lessor.checkpoints(10)).toHaveLength(10);
    expect(lessor.checkpoints(10)).toHaveLength(5);
    expect(lessor.checkpoints(10)).toHaveLength(0);
  });
});
