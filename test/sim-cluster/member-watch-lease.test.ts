/**
 * Watch and lease on one member (raft, WAL, MVCC, lessor, watch hub: everything but the API
 * layer and the real disk), through the MemberService calls the API layer makes, on simulated
 * time: expiry, progress notifications and clock jumps are asserted at exact points of the
 * virtual clock, and "not yet" means "not at this instant", never "not after a sleep".
 */
import { describe, expect, it } from 'vitest';
import { LEASE_TICK_MS } from '../../src/server/member.js';
import { lock } from '../../src/server/lock.js';
import type { MemberWatchStream, WatchResult } from '../../src/server/service.js';
import type { V3Server } from '../../src/server/v3-server.js';
import type { BugName } from '../../src/util/test-hook-names.js';
import { simCluster, type SimCluster } from './harness.js';

const b = (s: string): Buffer => Buffer.from(s);
const str = (u: Uint8Array): string => Buffer.from(u).toString();
const evs = (r: WatchResult): string[] => r.events.map((e) => `${e.type === 0 ? 'PUT' : 'DEL'} ${str(e.kv.key)}@${e.kv.modRevision}`);

/** One member with a 200 ms election timeout: the minimum lease TTL is then 1 s. */
async function member(o: { watchProgressNotifyMs?: number; bugs?: BugName[] } = {}): Promise<{ m: SimCluster; s: V3Server }> {
  const m = await simCluster({ size: 1, heartbeatMs: 20, electionMs: 200, ...o });
  return { m, s: (await m.leader()).server! };
}

function take(m: SimCluster, w: MemberWatchStream, n: number): Promise<WatchResult[]> {
  return m.run(
    (async () => {
      const out: WatchResult[] = [];
      while (out.length < n) {
        const r = await w.next();
        if (r === undefined) throw new Error(`stream ended after ${out.length} of ${n} responses`);
        out.push(r);
      }
      return out;
    })(),
    5000,
  );
}

/** Whether the key exists now, read from the member's store (no time passes). */
async function exists(m: SimCluster, s: V3Server, key: string): Promise<boolean> {
  return (await m.run(s.range({ key: b(key), serializable: true }))).kvs.length > 0;
}

describe('member: watch (simulated time)', () => {
  it('replays history, then delivers live events, in order, with prevKv', async () => {
    const { m, s } = await member();
    await m.run(s.put({ key: b('a'), value: b('1') }));
    await m.run(s.put({ key: b('a'), value: b('2') }));
    const w = s.watch();
    w.create({ key: b('a'), startRevision: 2, prevKv: true });
    const [created, history] = await take(m, w, 2);
    expect(created?.created).toBe(true);
    expect(evs(history as WatchResult)).toEqual(['PUT a@2', 'PUT a@3']);
    expect(history?.events[1]?.prevKv?.value).toEqual(b('1'));
    await m.run(s.deleteRange({ key: b('a') }));
    const [live] = await take(m, w, 1);
    expect(evs(live as WatchResult)).toEqual(['DEL a@4']);
    expect(str(live?.events[0]?.prevKv?.value ?? new Uint8Array())).toBe('2');
    w.close();
    expect(await m.run(w.next())).toBeUndefined();
  });

  it('cancels a watch whose start revision was compacted, with the compact revision', async () => {
    const { m, s } = await member();
    for (let i = 0; i < 4; i++) await m.run(s.put({ key: b('k'), value: b(String(i)) }));
    await m.run(s.compact(4, true));
    const w = s.watch();
    w.create({ key: b('k'), startRevision: 2 });
    const [, canceled] = await take(m, w, 2);
    expect(canceled).toMatchObject({ canceled: true, compactRevision: 4 });
    // A negative start revision is refused the same way, as etcd does.
    w.create({ key: b('k'), startRevision: -3 });
    const [, refused] = await take(m, w, 2);
    expect(refused).toMatchObject({ canceled: true, compactRevision: 4 });
    w.close();
  });

  it('joins the events of a watcher whose response is still queued into that response, each revision whole', async () => {
    const { m, s } = await member();
    const w = s.watch();
    w.create({ key: b('j'), rangeEnd: b('k') });
    await take(m, w, 1);
    for (let i = 0; i < 5; i++) await m.run(s.put({ key: b(`j${i}`), value: b('v') }));
    await m.run(s.txn({ compare: [], success: [{ requestPut: { key: b('ja'), value: b('1') } }, { requestPut: { key: b('jb'), value: b('2') } }], failure: [] }));
    const [r] = await take(m, w, 1);
    expect(r === undefined ? [] : evs(r)).toEqual(['PUT j0@2', 'PUT j1@3', 'PUT j2@4', 'PUT j3@5', 'PUT j4@6', 'PUT ja@7', 'PUT jb@7']);
    expect(r?.header.revision).toBe(7);
    w.close();
  });

  it('never joins events across a cancel and a new watch with the same client-chosen id', async () => {
    const { m, s } = await member();
    const w = s.watch();
    w.create({ key: b('r'), watchId: 5 });
    await m.run(s.put({ key: b('r'), value: b('1') }));
    w.cancel(5);
    w.create({ key: b('r'), watchId: 5 });
    await m.run(s.put({ key: b('r'), value: b('2') }));
    const got = (await take(m, w, 5)).map((r) => (r.created ? 'created' : r.canceled ? 'canceled' : evs(r).join(',')));
    expect(got).toEqual(['created', 'PUT r@2', 'canceled', 'created', 'PUT r@3']);
    w.close();
  });

  it('holds watchers that are not read aside and catches them up later without loss', async () => {
    const { m, s } = await member();
    const w = s.watch();
    // More watchers than the stream buffers responses: events of a watcher already queued join
    // its response, so only watchers beyond the buffer are held aside.
    const watchers = 200;
    for (let i = 0; i < watchers; i++) w.create({ key: b('p'), rangeEnd: b('q') });
    await take(m, w, watchers);
    for (let i = 0; i < 300; i++) await m.run(s.put({ key: b(`p${i % 7}`), value: b(String(i)) }));
    const held = s.watchStats();
    expect(held.victims + held.unsynced).toBeGreaterThanOrEqual(watchers - 128);
    const revs = new Map<number, number[]>();
    let total = 0;
    for (let i = 0; i < watchers * 300 && total < watchers * 300; i++) {
      const [r] = await take(m, w, 1);
      const list = revs.get(r?.watchId ?? -1) ?? [];
      for (const e of r?.events ?? []) list.push(e.kv.modRevision);
      total += r?.events.length ?? 0;
      revs.set(r?.watchId ?? -1, list);
    }
    expect(revs.size).toBe(watchers);
    for (const list of revs.values()) expect(list).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(s.watchStats()).toMatchObject({ synced: watchers, unsynced: 0, victims: 0, streams: 1 });
    w.close();
    expect(s.watchStats()).toMatchObject({ synced: 0, streams: 0 });
  });

  it('the skip-watch-event bug leaves out every 50th event of a stream', async () => {
    const { m, s } = await member({ bugs: ['skip-watch-event'] });
    const w = s.watch();
    w.create({ key: b('s'), rangeEnd: b('t') });
    await take(m, w, 1);
    for (let i = 0; i < 120; i++) await m.run(s.put({ key: b(`s${i}`), value: b('v') }));
    const revs: number[] = [];
    for (let i = 0; i < 120 && revs.length < 118; i++) for (const e of (await take(m, w, 1))[0]?.events ?? []) revs.push(e.kv.modRevision);
    // Revisions 2..121 were written; the 50th and 100th sent (revisions 51 and 101) are missing.
    expect(revs.length).toBe(118);
    expect(Array.from({ length: 120 }, (_, i) => i + 2).filter((r) => !revs.includes(r))).toEqual([51, 101]);
    w.close();
  });
});

describe('member: watch progress (simulated time)', () => {
  it('answers a progress request with watch id -1 at the current revision, after catching up', async () => {
    const { m, s } = await member();
    for (let i = 0; i < 5; i++) await m.run(s.put({ key: b('g'), value: b(String(i)) }));
    const w = s.watch();
    w.create({ key: b('g'), startRevision: 2 });
    w.requestProgress();
    const got = await take(m, w, 3);
    // created, the replayed history, then the progress answer: never before the history.
    expect(got.map((r) => [r.watchId, r.created === true, r.events.length, r.header.revision])).toEqual([
      [0, true, 0, 6],
      [0, false, 5, 6],
      [-1, false, 0, 6],
    ]);
    w.close();
  });

  it('sends a progress notification every interval to idle watchers that asked, and only to those', async () => {
    const { m, s } = await member({ watchProgressNotifyMs: 100 });
    await m.run(s.put({ key: b('n'), value: b('1') }));
    const w = s.watch();
    w.create({ key: b('n'), progressNotify: true });
    w.create({ key: b('m') });
    await take(m, w, 2);
    const start = m.now();
    const got = await take(m, w, 3);
    // Three notifications in about three intervals (the first round may find the watcher new).
    expect(m.now() - start).toBeLessThanOrEqual(4 * 100 + 10);
    expect(got.map((r) => [r.watchId, r.events.length, r.header.revision])).toEqual([
      [0, 0, 2],
      [0, 0, 2],
      [0, 0, 2],
    ]);
    w.close();
  });

  it('never joins events ahead of a progress notification queued before them: revisions only grow', async () => {
    const { m, s } = await member({ watchProgressNotifyMs: 100 });
    const w = s.watch();
    w.create({ key: b('g'), progressNotify: true });
    await take(m, w, 1);
    // Not read meanwhile: events of 2, then progress notifications at 2, then events of 3.
    await m.run(s.put({ key: b('g'), value: b('1') }));
    await m.advance(600);
    await m.run(s.put({ key: b('g'), value: b('2') }));
    const got: [number, number][] = [];
    for (let i = 0; i < 50 && !got.some(([events, rev]) => events > 0 && rev === 3); i++) {
      const [r] = await take(m, w, 1);
      got.push([r?.events.length ?? 0, r?.header.revision ?? 0]);
    }
    expect(got.some(([events, rev]) => events === 1 && rev === 2)).toBe(true);
    expect(got.some(([events, rev]) => events === 0 && rev === 2)).toBe(true);
    expect(got.map(([, rev]) => rev)).toEqual([...got.map(([, rev]) => rev)].sort((x, y) => x - y));
    w.close();
  });
});

describe('member: leases (simulated time)', () => {
  it('grants, attaches keys, renews, reports TTL and revokes the keys in one revision', async () => {
    const { m, s } = await member();
    const g = await m.run(s.leaseGrant(10, 0n));
    expect(g.id).toBeGreaterThan(0n);
    expect(g.ttl).toBe(10);
    await m.run(s.put({ key: b('x'), value: b('1'), lease: g.id }));
    await m.run(s.put({ key: b('y'), value: b('1'), lease: g.id }));
    await m.advance(2500);
    const ttl = await m.run(s.leaseTimeToLive(g.id, true));
    expect(ttl.grantedTtl).toBe(10);
    expect(ttl.ttl).toBe(7);
    expect(ttl.keys.map(str)).toEqual(['x', 'y']);
    expect((await m.run(s.leaseKeepAlive(g.id))).ttl).toBe(10);
    expect((await m.run(s.leaseTimeToLive(g.id, false))).ttl).toBe(9);
    expect((await m.run(s.leaseLeases())).leases).toEqual([g.id]);
    const before = (await m.run(s.range({ key: b('x') }))).header.revision;
    await m.run(s.leaseRevoke(g.id));
    const after = await m.run(s.range({ key: b('\0'), rangeEnd: b('\0') }));
    expect(after.kvs).toEqual([]);
    expect(after.header.revision).toBe(before + 1);
    expect((await m.run(s.leaseTimeToLive(g.id, false))).ttl).toBe(-1);
    expect((await m.run(s.leaseKeepAlive(g.id))).ttl).toBe(0);
    await expect(m.run(s.leaseRevoke(g.id))).rejects.toMatchObject({ code: 'LeaseNotFound' });
    await expect(m.run(s.put({ key: b('z'), value: b('1'), lease: g.id }))).rejects.toMatchObject({ code: 'LeaseNotFound' });
  });

  it('expires a lease that is not kept alive: its key lives the TTL, and is gone within one lease tick after', async () => {
    const { m, s } = await member();
    const g = await m.run(s.leaseGrant(1, 0n));
    expect(g.ttl).toBe(1);
    const grantedAt = m.now();
    await m.run(s.put({ key: b('e'), value: b('1'), lease: g.id }));
    const w = s.watch();
    w.create({ key: b('e') });
    await take(m, w, 1);
    await m.advance(grantedAt + 1000 - 1 - m.now());
    expect(await exists(m, s, 'e')).toBe(true);
    const [del] = await take(m, w, 1);
    expect(evs(del as WatchResult)[0]).toMatch(/^DEL e@/);
    // The leader looks for expired leases every LEASE_TICK_MS; the revoke then takes a commit.
    expect(m.now() - grantedAt).toBeGreaterThanOrEqual(1000);
    expect(m.now() - grantedAt).toBeLessThanOrEqual(1000 + LEASE_TICK_MS + 20);
    w.close();
  });

  it('a keep-alive gives the lease its whole TTL again, from when it was served', async () => {
    const { m, s } = await member();
    const g = await m.run(s.leaseGrant(2, 0n));
    await m.run(s.put({ key: b('kept'), value: b('1'), lease: g.id }));
    await m.advance(1500);
    await m.run(s.leaseKeepAlive(g.id));
    const renewedAt = m.now();
    await m.advance(renewedAt + 2000 - 1 - m.now());
    expect(await exists(m, s, 'kept')).toBe(true);
    await m.advance(LEASE_TICK_MS + 20);
    expect(await exists(m, s, 'kept')).toBe(false);
  });

  it('keeps leases and their keys across a restart, with the TTL left (etcd checkpoints none: the whole TTL)', async () => {
    const { m, s } = await member();
    const g = await m.run(s.leaseGrant(60, 0n));
    await m.run(s.put({ key: b('kept'), value: b('1'), lease: g.id }));
    const n1 = m.c.node('n1');
    await m.run(n1.stop());
    await m.run(m.c.restart(n1));
    const again = (await m.leader()).server!;
    const ttl = await m.run(again.leaseTimeToLive(g.id, true));
    expect(ttl.keys.map(str)).toEqual(['kept']);
    expect(ttl.ttl).toBeGreaterThan(50);
    await m.run(again.leaseRevoke(g.id));
    expect((await m.run(again.range({ key: b('kept') }))).kvs).toEqual([]);
  });

  it('lease expiry reads the member clock: a jump forward past the TTL expires a long lease at the next tick', async () => {
    const { m, s } = await member();
    const g = await m.run(s.leaseGrant(60, 0n));
    await m.run(s.put({ key: b('jump'), value: b('1'), lease: g.id }));
    m.c.node('n1').clockOffsetMs = 61_000;
    const jumpedAt = m.now();
    expect(await exists(m, s, 'jump')).toBe(true);
    await m.advance(LEASE_TICK_MS + 20);
    expect(await exists(m, s, 'jump')).toBe(false);
    expect(m.now() - jumpedAt).toBeLessThan(60_000);
  });
});

describe('member: locks (simulated time)', () => {
  for (const bug of [false, true]) {
    it(bug ? 'the lock-without-lease-check bug grants a held lock at once' : 'a second locker waits while the first holds the lock, however long', async () => {
      const { m, s } = await member(bug ? { bugs: ['lock-without-lease-check'] } : {});
      const policy = m.c.node('n1').lockPolicy;
      const [l1, l2] = [(await m.run(s.leaseGrant(30, 0n))).id, (await m.run(s.leaseGrant(30, 0n))).id];
      await m.run(lock(s, b('L'), l1, new AbortController().signal, policy));
      const waiting = new AbortController();
      let outcome = 'waiting';
      const second = lock(s, b('L'), l2, waiting.signal, policy).then(
        () => (outcome = 'granted'),
        () => (outcome = 'aborted'),
      );
      // Ten seconds of virtual time with the first holder's lease alive (30 s).
      await m.advance(10_000);
      expect(outcome).toBe(bug ? 'granted' : 'waiting');
      waiting.abort();
      await m.run(second);
      expect(outcome).toBe(bug ? 'granted' : 'aborted');
    });
  }
});
