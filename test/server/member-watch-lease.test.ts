/**
 * Watch and lease on one in-process member (raft, WAL, LevelDB: everything but the API layer),
 * through the MemberService calls the API layer makes.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cluster/local-cluster.js';
import { DEFAULTS, type ServerConfig } from '../../src/server/config.js';
import { lock } from '../../src/server/lock.js';
import { realEnv } from '../../src/server/real-env.js';
import { createMember, type V3Server } from '../../src/server/v3-server.js';
import type { MemberWatchStream, WatchResult } from '../../src/server/service.js';
import { hookedMember, TestHooks } from '../../src/cli/test-hooks.js';
import { nopLogger } from '../../src/util/index.js';

const b = (s: string): Buffer => Buffer.from(s);
const str = (u: Uint8Array): string => Buffer.from(u).toString();

const started: { server: V3Server; dir: string }[] = [];

function newMember(cfg: ServerConfig, hooks?: TestHooks): V3Server {
  const wired = hooks ? hookedMember(hooks, path.join(cfg.dataDir, 'member')) : undefined;
  return createMember(cfg, realEnv(cfg.logger, wired?.env), wired?.strategies);
}

async function startMember(overrides: Partial<ServerConfig> = {}, hooks?: TestHooks): Promise<{ server: V3Server; dir: string; cfg: ServerConfig }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsetcd-member-'));
  const peer = `http://127.0.0.1:${await freePort()}`;
  const cfg: ServerConfig = {
    ...DEFAULTS,
    name: 'm1',
    dataDir: dir,
    listenClientUrls: [`http://127.0.0.1:${await freePort()}`],
    advertiseClientUrls: [],
    listenPeerUrls: [peer],
    initialAdvertisePeerUrls: [peer],
    initialCluster: new Map([['m1', [peer]]]),
    heartbeatMs: 20,
    electionMs: 200,
    logger: nopLogger,
    ...overrides,
  };
  const server = newMember(cfg, hooks);
  await server.start();
  started.push({ server, dir });
  for (let i = 0; i < 200 && !server.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(server.isLeader()).toBe(true);
  return { server, dir, cfg };
}

afterEach(async () => {
  for (const { server, dir } of started.splice(0)) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

async function take(w: MemberWatchStream, n: number): Promise<WatchResult[]> {
  const out: WatchResult[] = [];
  while (out.length < n) {
    const r = await Promise.race([w.next(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000))]);
    if (r === 'timeout' || r === undefined) throw new Error(`got ${out.length} of ${n} responses`);
    out.push(r);
  }
  return out;
}

const evs = (r: WatchResult): string[] => r.events.map((e) => `${e.type === 0 ? 'PUT' : 'DEL'} ${str(e.kv.key)}@${e.kv.modRevision}`);

describe('member: watch', () => {
  it('replays history, then delivers live events, in order, with prevKv', async () => {
    const { server } = await startMember();
    await server.put({ key: b('a'), value: b('1') });
    await server.put({ key: b('a'), value: b('2') });
    const w = server.watch();
    w.create({ key: b('a'), startRevision: 2, prevKv: true });
    const [created, history] = await take(w, 2);
    expect(created?.created).toBe(true);
    expect(evs(history as WatchResult)).toEqual(['PUT a@2', 'PUT a@3']);
    expect(history?.events[1]?.prevKv?.value).toEqual(b('1'));
    await server.deleteRange({ key: b('a') });
    const [live] = await take(w, 1);
    expect(evs(live as WatchResult)).toEqual(['DEL a@4']);
    expect(str(live?.events[0]?.prevKv?.value ?? new Uint8Array())).toBe('2');
    w.close();
    expect(await w.next()).toBeUndefined();
  });

  it('cancels a watch whose start revision was compacted, with the compact revision', async () => {
    const { server } = await startMember();
    for (let i = 0; i < 4; i++) await server.put({ key: b('k'), value: b(String(i)) });
    await server.compact(4, true);
    const w = server.watch();
    w.create({ key: b('k'), startRevision: 2 });
    const [, canceled] = await take(w, 2);
    expect(canceled).toMatchObject({ canceled: true, compactRevision: 4 });
    // A negative start revision is refused the same way, as etcd does.
    w.create({ key: b('k'), startRevision: -3 });
    const [, refused] = await take(w, 2);
    expect(refused).toMatchObject({ canceled: true, compactRevision: 4 });
    w.close();
  });

  it('joins the events of a watcher whose response is still queued into that response, each revision whole', async () => {
    const { server } = await startMember();
    const w = server.watch();
    w.create({ key: b('j'), rangeEnd: b('k') });
    await take(w, 1);
    for (let i = 0; i < 5; i++) await server.put({ key: b(`j${i}`), value: b('v') });
    await server.txn({ compare: [], success: [{ requestPut: { key: b('ja'), value: b('1') } }, { requestPut: { key: b('jb'), value: b('2') } }], failure: [] });
    const [r] = await take(w, 1);
    expect(r === undefined ? [] : evs(r)).toEqual(['PUT j0@2', 'PUT j1@3', 'PUT j2@4', 'PUT j3@5', 'PUT j4@6', 'PUT ja@7', 'PUT jb@7']);
    expect(r?.header.revision).toBe(7);
    w.close();
  });

  it('never joins events across a cancel and a new watch with the same client-chosen id', async () => {
    const { server } = await startMember();
    const w = server.watch();
    w.create({ key: b('r'), watchId: 5 });
    await server.put({ key: b('r'), value: b('1') });
    w.cancel(5);
    w.create({ key: b('r'), watchId: 5 });
    await server.put({ key: b('r'), value: b('2') });
    const got = (await take(w, 5)).map((r) => (r.created ? 'created' : r.canceled ? 'canceled' : evs(r).join(',')));
    expect(got).toEqual(['created', 'PUT r@2', 'canceled', 'created', 'PUT r@3']);
    w.close();
  });

  it('holds watchers that are not read aside and catches them up later without loss', async () => {
    const { server } = await startMember();
    const w = server.watch();
    // More watchers than the stream buffers responses: events of a watcher already queued join
    // its response, so only watchers beyond the buffer are held aside.
    const watchers = 200;
    for (let i = 0; i < watchers; i++) w.create({ key: b('p'), rangeEnd: b('q') });
    await take(w, watchers);
    for (let i = 0; i < 300; i++) await server.put({ key: b(`p${i % 7}`), value: b(String(i)) });
    const held = server.watchStats();
    expect(held.victims + held.unsynced).toBeGreaterThanOrEqual(watchers - 128);
    const revs = new Map<number, number[]>();
    let total = 0;
    const deadline = Date.now() + 10_000;
    while (total < watchers * 300 && Date.now() < deadline) {
      const [r] = await take(w, 1);
      const list = revs.get(r?.watchId ?? -1) ?? [];
      for (const e of r?.events ?? []) list.push(e.kv.modRevision);
      total += r?.events.length ?? 0;
      revs.set(r?.watchId ?? -1, list);
    }
    expect(revs.size).toBe(watchers);
    for (const list of revs.values()) expect(list).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(server.watchStats()).toMatchObject({ synced: watchers, unsynced: 0, victims: 0, streams: 1 });
    w.close();
    expect(server.watchStats()).toMatchObject({ synced: 0, streams: 0 });
  });
});

describe('member: watch progress', () => {
  it('answers a progress request with watch id -1 at the current revision, after catching up', async () => {
    const { server } = await startMember();
    for (let i = 0; i < 5; i++) await server.put({ key: b('g'), value: b(String(i)) });
    const w = server.watch();
    w.create({ key: b('g'), startRevision: 2 });
    w.requestProgress();
    const got = await take(w, 3);
    // created, the replayed history, then the progress answer: never before the history.
    expect(got.map((r) => [r.watchId, r.created === true, r.events.length, r.header.revision])).toEqual([
      [0, true, 0, 6],
      [0, false, 5, 6],
      [-1, false, 0, 6],
    ]);
    w.close();
  });

  it('sends progress notifications to idle watchers that asked for them, and only to those', async () => {
    const { server } = await startMember({ watchProgressNotifyMs: 100 });
    await server.put({ key: b('n'), value: b('1') });
    const w = server.watch();
    w.create({ key: b('n'), progressNotify: true });
    w.create({ key: b('m') });
    await take(w, 2);
    const got = await take(w, 3);
    expect(got.map((r) => [r.watchId, r.events.length, r.header.revision])).toEqual([
      [0, 0, 2],
      [0, 0, 2],
      [0, 0, 2],
    ]);
    w.close();
  });
});

describe('member: watch progress and joined responses', () => {
  it('never joins events ahead of a progress notification queued before them: revisions only grow', async () => {
    const { server } = await startMember({ watchProgressNotifyMs: 100 });
    const w = server.watch();
    w.create({ key: b('g'), progressNotify: true });
    await take(w, 1);
    // Not read meanwhile: events of 2, then progress notifications at 2, then events of 3.
    await server.put({ key: b('g'), value: b('1') });
    // Two progress rounds (100 ms each) make one notification; this leaves room for several.
    await new Promise((r) => setTimeout(r, 600));
    await server.put({ key: b('g'), value: b('2') });
    const got: [number, number][] = [];
    while (!got.some(([events, rev]) => events > 0 && rev === 3)) {
      const [r] = await take(w, 1);
      got.push([r?.events.length ?? 0, r?.header.revision ?? 0]);
    }
    // (A progress notification at revision 1 may come first, before the first put.)
    expect(got.some(([events, rev]) => events === 1 && rev === 2)).toBe(true);
    expect(got.some(([events, rev]) => events === 0 && rev === 2)).toBe(true);
    expect(got.map(([, rev]) => rev)).toEqual([...got.map(([, rev]) => rev)].sort((a, b) => a - b));
    w.close();
  });
});

describe('member: leases', () => {
  it('grants, attaches keys, renews, reports TTL and revokes the keys in one revision', async () => {
    const { server } = await startMember();
    const g = await server.leaseGrant(10, 0n);
    expect(g.id).toBeGreaterThan(0n);
    expect(g.ttl).toBe(10);
    await server.put({ key: b('x'), value: b('1'), lease: g.id });
    await server.put({ key: b('y'), value: b('1'), lease: g.id });
    const ttl = await server.leaseTimeToLive(g.id, true);
    expect(ttl.grantedTtl).toBe(10);
    expect(ttl.ttl).toBeGreaterThanOrEqual(9);
    expect(ttl.keys.map(str)).toEqual(['x', 'y']);
    expect((await server.leaseKeepAlive(g.id)).ttl).toBe(10);
    expect((await server.leaseLeases()).leases).toEqual([g.id]);
    const before = (await server.range({ key: b('x') })).header.revision;
    await server.leaseRevoke(g.id);
    const after = await server.range({ key: b('\0'), rangeEnd: b('\0') });
    expect(after.kvs).toEqual([]);
    expect(after.header.revision).toBe(before + 1);
    expect((await server.leaseTimeToLive(g.id, false)).ttl).toBe(-1);
    expect((await server.leaseKeepAlive(g.id)).ttl).toBe(0);
    await expect(server.leaseRevoke(g.id)).rejects.toMatchObject({ code: 'LeaseNotFound' });
    await expect(server.put({ key: b('z'), value: b('1'), lease: g.id })).rejects.toMatchObject({ code: 'LeaseNotFound' });
  });

  it('expires a lease that is not kept alive and deletes its keys within TTL + 1 s', async () => {
    const { server } = await startMember();
    // electionMs 200 makes the minimum TTL 1 s.
    const g = await server.leaseGrant(1, 0n);
    expect(g.ttl).toBe(1);
    await server.put({ key: b('e'), value: b('1'), lease: g.id });
    const t0 = Date.now();
    const w = server.watch();
    w.create({ key: b('e') });
    await take(w, 1);
    const [del] = await take(w, 1);
    const elapsed = Date.now() - t0;
    expect(evs(del as WatchResult)[0]).toMatch(/^DEL e@/);
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(2000);
    w.close();
  });

  it('keeps leases and their keys across a restart', async () => {
    const { server, cfg } = await startMember();
    const g = await server.leaseGrant(60, 0n);
    await server.put({ key: b('kept'), value: b('1'), lease: g.id });
    await server.stop();
    started.length = 0;
    const again = newMember(cfg);
    await again.start();
    started.push({ server: again, dir: cfg.dataDir });
    for (let i = 0; i < 200 && !again.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
    const ttl = await again.leaseTimeToLive(g.id, true);
    expect(ttl.keys.map(str)).toEqual(['kept']);
    expect(ttl.ttl).toBeGreaterThan(50);
    await again.leaseRevoke(g.id);
    expect((await again.range({ key: b('kept') })).kvs).toEqual([]);
  });
});

describe('member: test hooks', () => {
  it('lease expiry reads the hooks clock: a jump forward expires a long lease at once', async () => {
    const hooks = new TestHooks([], nopLogger);
    const { server } = await startMember({}, hooks);
    const g = await server.leaseGrant(60, 0n);
    await server.put({ key: b('jump'), value: b('1'), lease: g.id });
    hooks.setClock({ offsetMs: 61_000 });
    const t0 = Date.now();
    for (let i = 0; i < 100 && (await server.range({ key: b('jump') })).kvs.length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await server.range({ key: b('jump') })).kvs).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('the skip-watch-event bug leaves out every 50th event of a stream', async () => {
    const { server } = await startMember({}, new TestHooks(['skip-watch-event'], nopLogger));
    const w = server.watch();
    w.create({ key: b('s'), rangeEnd: b('t') });
    await take(w, 1);
    for (let i = 0; i < 120; i++) await server.put({ key: b(`s${i}`), value: b('v') });
    const revs: number[] = [];
    const deadline = Date.now() + 5000;
    while (revs.length < 118 && Date.now() < deadline) {
      const [r] = await take(w, 1);
      for (const e of r?.events ?? []) revs.push(e.kv.modRevision);
    }
    // Revisions 2..121 were written; the 50th and 100th sent (revisions 51 and 101) are missing.
    expect(revs.length).toBe(118);
    expect(Array.from({ length: 120 }, (_, i) => i + 2).filter((r) => !revs.includes(r))).toEqual([51, 101]);
    w.close();
  });

  it('the lock-without-lease-check bug grants a held lock at once; without it the second waits', async () => {
    for (const bug of [false, true]) {
      const hooks = new TestHooks(bug ? ['lock-without-lease-check'] : [], nopLogger);
      const { server, dir } = await startMember({}, hooks);
      const policy = hookedMember(hooks, dir).lockPolicy;
      const [l1, l2] = [(await server.leaseGrant(30, 0n)).id, (await server.leaseGrant(30, 0n)).id];
      await lock(server, b('L'), l1, new AbortController().signal);
      const waiting = new AbortController();
      const second = lock(server, b('L'), l2, waiting.signal, policy).then(() => 'granted', () => 'aborted');
      setTimeout(() => waiting.abort(), 500);
      expect(await second).toBe(bug ? 'granted' : 'aborted');
      await server.stop();
    }
  });

  it('a failpoint that errors in apply stops the member, logged as fired', async () => {
    const hooks = new TestHooks([], nopLogger);
    const { server } = await startMember({}, hooks);
    hooks.setFailpoint('beforeApply', 'error');
    await expect(server.put({ key: b('x'), value: b('1') })).rejects.toMatchObject({ code: expect.stringMatching(/Timeout|Stopped/) });
    await server.whenStopped();
    expect(server.stopReason).toMatch(/failpoint beforeApply: injected error/);
  });
});

describe('member: a lost WAL', () => {
  it('refuses to start when the WAL has no segment but the database holds data; starts afresh when there is no database yet', async () => {
    const { server, cfg } = await startMember();
    await server.put({ key: b('k'), value: b('v') });
    await server.stop();
    const wal = path.join(cfg.dataDir, 'member', 'wal');
    for (const f of await readdir(wal)) await rm(path.join(wal, f));
    await expect(newMember(cfg).start()).rejects.toThrow(/holds no WAL segment but the member has a database/);
    // No database yet (a crash while the WAL was being created): a fresh start.
    await rm(path.join(cfg.dataDir, 'member', 'db'), { recursive: true });
    const again = newMember(cfg);
    await again.start();
    started.push({ server: again, dir: cfg.dataDir });
    for (let i = 0; i < 200 && !again.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await again.range({ key: b('k') })).kvs).toEqual([]);
  });
});
