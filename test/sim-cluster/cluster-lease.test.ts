/**
 * Leases on three members, on simulated time: expiry through a follower, and expiry across a
 * leader crash, where etcd's rule holds: the new leader gives every lease its whole TTL plus an
 * election timeout from when it takes over (the old leader's renewals died with it), and a lease
 * kept alive through a follower survives the change.
 */
import { describe, expect, it } from 'vitest';
import { LEASE_TICK_MS } from '../../src/server/member.js';
import { simCluster, type SimCluster } from './harness.js';
import type { SimNode } from './sim-node.js';

const b = (s: string): Buffer => Buffer.from(s);
const ELECTION_MS = 1000;
/** A commit on this simulated network and disk takes a few milliseconds: the slack of a bound. */
const COMMIT_SLACK_MS = 50;

async function exists(m: SimCluster, n: SimNode, key: string): Promise<boolean> {
  return (await m.run(n.server!.range({ key: b(key), serializable: true }))).kvs.length > 0;
}

/** Drives until `key` is gone on `n`; returns when (bounded by limitMs of virtual time). */
async function goneAt(m: SimCluster, n: SimNode, key: string, limitMs: number): Promise<number> {
  const until = m.now() + limitMs;
  while (m.now() < until) {
    if (!(await exists(m, n, key))) return m.now();
    await m.advance(10);
  }
  throw new Error(`${key} still there after ${limitMs} ms`);
}

describe('leases on three simulated members', () => {
  it('a lease granted through a follower expires: its key lives the TTL and is gone within a lease tick after', async () => {
    const m = await simCluster({ size: 3, electionMs: ELECTION_MS });
    const leader = await m.leader();
    const follower = m.c.up.find((n) => n !== leader)!;
    const g = await m.run(follower.server!.leaseGrant(3, 0n));
    const grantedAt = m.now();
    await m.run(follower.server!.put({ key: b('exp/a'), value: b('x'), lease: g.id }));
    const at = await goneAt(m, follower, 'exp/a', 10_000);
    expect(at - grantedAt).toBeGreaterThanOrEqual(3000);
    expect(at - grantedAt).toBeLessThanOrEqual(3000 + LEASE_TICK_MS + COMMIT_SLACK_MS);
  });

  it('an expiring lease outlives a leader crash by TTL + election timeout from the takeover; a kept-alive lease survives', async () => {
    const m = await simCluster({ size: 3, electionMs: ELECTION_MS });
    const leader = await m.leader();
    const follower = m.c.up.find((n) => n !== leader)!;
    const s = follower.server!;
    const expiring = await m.run(s.leaseGrant(5, 0n));
    await m.run(s.put({ key: b('kill/expiring'), value: b('x'), lease: expiring.id }));
    const kept = await m.run(s.leaseGrant(3, 0n));
    await m.run(s.put({ key: b('kill/kept'), value: b('alive'), lease: kept.id }));
    await m.advance(1000);

    leader.crash('kill');
    const killedAt = m.now();
    // The client keeps `kept` alive through the follower every second; while there is no leader
    // the keep-alives fail, as they do against etcd.
    let stop = false;
    const keepAlive = (async () => {
      for (let i = 0; i < 30 && !stop; i++) {
        await s.leaseKeepAlive(kept.id).catch(() => undefined);
        await m.c.sched.sleep(1000, m.c.owner);
      }
    })();
    const newLeader = await m.leader();
    expect(newLeader).not.toBe(leader);
    const tookOverAt = m.c.leaderships.filter((l) => l.node === newLeader.name).at(-1)!.at;
    const at = await goneAt(m, follower, 'kill/expiring', 15_000);
    expect(at).toBeGreaterThanOrEqual(tookOverAt + ELECTION_MS + 5000);
    expect(at).toBeLessThanOrEqual(tookOverAt + ELECTION_MS + 5000 + LEASE_TICK_MS + COMMIT_SLACK_MS);
    expect(at - killedAt).toBeGreaterThan(5000 + ELECTION_MS);

    // Three TTLs of the kept lease after the crash: there on both surviving members.
    await m.advance(killedAt + 9000 - m.now());
    for (const n of m.c.up) expect(await exists(m, n, 'kill/kept'), n.name).toBe(true);
    const left = await m.run(newLeader.server!.leaseTimeToLive(kept.id, true));
    expect(left.ttl).toBeGreaterThan(0);
    expect(left.keys.map((k) => Buffer.from(k).toString())).toEqual(['kill/kept']);
    stop = true;
    await m.run(keepAlive);
    await m.run(s.leaseRevoke(kept.id));
    expect(await exists(m, follower, 'kill/kept')).toBe(false);
  });
});
