/**
 * src/client against a real etcd 3.4 (one member on free loopback ports, stopped by PID after):
 * every call round-trips, watch replays history and streams live events, keep-alives answer in
 * order, and real errors come back with etcd's text and the right `definite`.
 *
 * CLIENT_TEST_SYSTEM=tsetcd runs the same file against a 1-member tsetcd instead (opt-in: it
 * checks the server as much as the client, and the suite's default target is the reference).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, freePort } from '../../cluster/local-cluster.js';
import { ETCD_BIN, startRealEtcdCluster, type RealEtcdCluster } from '../../cluster/real-etcd.js';
import { CLASSIFICATION, ClientError, EtcdClient, Mutex, Session, Status, classify, prefixEnd, type WatchResponse, type WatchStream } from '../../src/client/index.js';
import { catalog } from '../../src/errors.js';

const system = process.env['CLIENT_TEST_SYSTEM'] === 'tsetcd' ? 'tsetcd' : 'etcd';
const ready = system === 'tsetcd' || existsSync(ETCD_BIN);
const title = system === 'tsetcd' ? 'client against a 1-member tsetcd' : ready ? 'client against a real etcd 3.4' : `client against a real etcd 3.4 (SKIPPED: no ${ETCD_BIN})`;

interface Target {
  endpoints: string[];
  memberName: string;
  stop(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  if (system === 'etcd') {
    const e: RealEtcdCluster = await startRealEtcdCluster(1);
    return { endpoints: e.endpoints, memberName: 'e1', stop: () => e.stop() };
  }
  const cl = await LocalCluster.create({ size: 1, output: 'file' });
  cl.startAll();
  const probe = new EtcdClient({ endpoints: cl.endpoints, timeoutMs: 1000 });
  try {
    // Bounded: a member that does not take a put within 30 s fails the suite.
    for (let i = 0; ; i++) {
      try {
        await probe.put({ key: 'ready', value: '' });
        break;
      } catch (e) {
        if (i >= 150) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    probe.close();
  }
  return {
    endpoints: cl.endpoints,
    memberName: 'm1',
    stop: async () => {
      await cl.stopAll('SIGKILL');
      await rm(cl.baseDir, { recursive: true, force: true });
    },
  };
}

const s = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

/** Reads responses from a watch stream until `until` says enough; bounded by a timeout. */
async function collect(it: AsyncIterator<WatchResponse>, until: (all: WatchResponse[]) => boolean, timeoutMs = 5000): Promise<WatchResponse[]> {
  const all: WatchResponse[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!until(all)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`watch: condition not met in ${timeoutMs} ms; got ${JSON.stringify(all.map((r) => ({ ...r, header: undefined, events: r.events.length })))}`);
    let timer: NodeJS.Timeout | undefined;
    const next = await Promise.race([it.next(), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)))]);
    clearTimeout(timer);
    if (next === 'timeout') continue;
    if (next.done) throw new Error('watch stream ended');
    all.push(next.value);
  }
  return all;
}

async function rejection(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(!ready)(title, () => {
  let etcd: Target;
  let c: EtcdClient;

  beforeAll(async () => {
    etcd = await startTarget();
    c = new EtcdClient({ endpoints: etcd.endpoints });
  });
  afterAll(async () => {
    c?.close();
    await etcd?.stop();
  });

  it('puts and ranges with every option', async () => {
    const p1 = await c.put({ key: 'kv/a', value: '1' });
    expect(p1.header.revision).toBeGreaterThan(1);
    expect(p1.header.clusterId).not.toBe(0n);
    expect(p1.prevKv).toBeUndefined();
    const p2 = await c.put({ key: Buffer.from('kv/a'), value: new Uint8Array([0x32]), prevKv: true });
    expect(s(p2.prevKv?.value)).toBe('1');
    expect(p2.prevKv?.modRevision).toBe(p1.header.revision);
    await c.put({ key: 'kv/b', value: 'bb' });
    await c.put({ key: 'kv/c', value: 'c' });

    const one = await c.range({ key: 'kv/a' });
    expect(one.kvs).toHaveLength(1);
    const kv = one.kvs[0];
    expect(s(kv?.key)).toBe('kv/a');
    expect(s(kv?.value)).toBe('2');
    expect(kv?.version).toBe(2);
    expect(kv?.createRevision).toBe(p1.header.revision);
    expect(kv?.modRevision).toBe(p2.header.revision);
    expect(kv?.lease).toBe(0n);

    const all = await c.range({ key: 'kv/', rangeEnd: 'kv0', sort: { target: 'key', order: 'descend' } });
    expect(all.kvs.map((k) => s(k.key))).toEqual(['kv/c', 'kv/b', 'kv/a']);
    expect(all.count).toBe(3);
    const limited = await c.range({ key: 'kv/', rangeEnd: 'kv0', limit: 2, serializable: true });
    expect(limited.kvs).toHaveLength(2);
    expect(limited.more).toBe(true);
    const keysOnly = await c.range({ key: 'kv/b', keysOnly: true });
    expect(keysOnly.kvs[0]?.value.length).toBe(0);
    const counted = await c.range({ key: 'kv/', rangeEnd: 'kv0', countOnly: true });
    expect(counted.kvs).toHaveLength(0);
    expect(counted.count).toBe(3);
    const old = await c.range({ key: 'kv/a', revision: p1.header.revision });
    expect(s(old.kvs[0]?.value)).toBe('1');
    const byValue = await c.range({ key: 'kv/', rangeEnd: 'kv0', sort: { target: 'value', order: 'ascend' } });
    expect(byValue.kvs.map((k) => s(k.value))).toEqual(['2', 'bb', 'c']);

    // ignoreValue keeps the value; on a missing key it is etcd's "key not found", definite.
    await c.put({ key: 'kv/a', ignoreValue: true });
    expect(s((await c.range({ key: 'kv/a' })).kvs[0]?.value)).toBe('2');
    const e = await rejection(c.put({ key: 'kv/none', ignoreValue: true }));
    expect(e.message).toBe('etcdserver: key not found');
    expect(e.definite).toBe(true);
  });

  it('deletes ranges, with prevKv', async () => {
    await c.put({ key: 'del/1', value: 'x' });
    await c.put({ key: 'del/2', value: 'y' });
    const d = await c.deleteRange({ key: 'del/', rangeEnd: 'del0', prevKv: true });
    expect(d.deleted).toBe(2);
    expect(d.prevKvs.map((k) => s(k.value))).toEqual(['x', 'y']);
    expect((await c.range({ key: 'del/', rangeEnd: 'del0' })).count).toBe(0);
  });

  it('runs txns: every compare target, both branches, nested ops', async () => {
    const p = await c.put({ key: 'txn/k', value: 'v1' });
    const rev = p.header.revision;
    const ok = await c.txn({
      compare: [
        { key: 'txn/k', target: 'value', result: '=', value: 'v1' },
        { key: 'txn/k', target: 'version', result: '=', value: 1 },
        { key: 'txn/k', target: 'create', result: '=', value: rev },
        { key: 'txn/k', target: 'mod', result: '<', value: rev + 1 },
        { key: 'txn/k', target: 'lease', result: '=', value: 0n },
      ],
      success: [
        { put: { key: 'txn/k', value: 'v2', prevKv: true } },
        { range: { key: 'txn/k' } },
        // etcd evaluates a nested txn's compares with the outer ones, before any op runs.
        { txn: { compare: [{ key: 'txn/k', target: 'value', result: '=', value: 'v1' }], success: [{ put: { key: 'txn/nested', value: 'n' } }] } },
        { deleteRange: { key: 'txn/nope' } },
      ],
      failure: [{ put: { key: 'txn/failed', value: 'f' } }],
    });
    expect(ok.succeeded).toBe(true);
    expect(ok.responses).toHaveLength(4);
    const [r0, r1, r2, r3] = ok.responses;
    expect(r0 && 'put' in r0 && s(r0.put.prevKv?.value)).toBe('v1');
    expect(r1 && 'range' in r1 && s(r1.range.kvs[0]?.value)).toBe('v2');
    expect(r2 && 'txn' in r2 && r2.txn.succeeded).toBe(true);
    expect(r3 && 'deleteRange' in r3 && r3.deleteRange.deleted).toBe(0);
    expect(s((await c.range({ key: 'txn/nested' })).kvs[0]?.value)).toBe('n');

    // A failed compare is an answer, not an error: the failure branch runs.
    const no = await c.txn({
      compare: [{ key: 'txn/k', target: 'value', result: '!=', value: 'v2' }],
      success: [{ put: { key: 'txn/succeeded', value: 's' } }],
      failure: [{ put: { key: 'txn/failed', value: 'f' } }, { range: { key: 'txn/k' } }],
    });
    expect(no.succeeded).toBe(false);
    expect((await c.range({ key: 'txn/failed' })).count).toBe(1);
    expect((await c.range({ key: 'txn/succeeded' })).count).toBe(0);
    const greater = await c.txn({ compare: [{ key: 'txn/k', target: 'version', result: '>', value: 1 }] });
    expect(greater.succeeded).toBe(true);
  });

  it('grants, lists, inspects, keeps alive and revokes leases; ids are lossless bigints', async () => {
    // Above 2^53: a double would round it.
    const bigId = 0x7fff_ffff_ffff_fff1n;
    const g = await c.leaseGrant(60, bigId);
    expect(g.id).toBe(bigId);
    expect(g.ttl).toBe(60);
    const auto = await c.leaseGrant(30);
    expect(auto.id).toBeGreaterThan(0n);
    await c.put({ key: 'lease/k', value: 'v', lease: bigId });
    expect((await c.range({ key: 'lease/k' })).kvs[0]?.lease).toBe(bigId);
    // ignoreLease keeps the key's lease.
    await c.put({ key: 'lease/k', value: 'w', ignoreLease: true });
    expect((await c.range({ key: 'lease/k' })).kvs[0]?.lease).toBe(bigId);

    const ttl = await c.leaseTimeToLive(bigId, { keys: true });
    expect(ttl.id).toBe(bigId);
    expect(ttl.grantedTtl).toBe(60);
    expect(ttl.ttl).toBeGreaterThan(50);
    expect(ttl.keys.map((k) => s(k))).toEqual(['lease/k']);
    const leases = await c.leaseLeases();
    expect(leases.leases).toEqual(expect.arrayContaining([bigId, auto.id]));

    const ka = c.leaseKeepAlive();
    try {
      // Several in flight at once: answered in order.
      const rs = await Promise.all([ka.send(bigId), ka.send(auto.id), ka.send(bigId), ka.send(12345n)]);
      expect(rs.map((r) => r.id)).toEqual([bigId, auto.id, bigId, 12345n]);
      expect(rs.map((r) => r.ttl)).toEqual([60, 30, 60, 0]);
      expect(rs[0]?.header.revision).toBeGreaterThan(0);
      expect(ka.pendingCount).toBe(0);
    } finally {
      ka.close();
    }
    await expect(ka.send(bigId)).rejects.toMatchObject({ code: Status.CANCELLED, definite: true });

    await c.leaseRevoke(bigId);
    expect((await c.range({ key: 'lease/k' })).count).toBe(0);
    expect((await c.leaseTimeToLive(bigId)).ttl).toBe(-1);
    await c.leaseRevoke(auto.id);
  });

  it('watches: history replay, live events with prevKv, filters, progress, cancel', async () => {
    const first = await c.put({ key: 'w/a', value: '1' });
    await c.put({ key: 'w/a', value: '2' });
    await c.deleteRange({ key: 'w/a' });
    const w: WatchStream = c.watch();
    const it = w[Symbol.asyncIterator]();
    try {
      // Watcher 1 replays from the first put; watcher 2 sees only deletes, live.
      w.create({ key: 'w/', rangeEnd: 'w0', startRevision: first.header.revision, prevKv: true });
      w.create({ key: 'w/', rangeEnd: 'w0', filters: ['noPut'] });
      const created = await collect(it, (all) => all.filter((r) => r.created).length === 2);
      const [id1, id2] = created.filter((r) => r.created).map((r) => r.watchId);
      expect(id1).not.toBe(id2);
      const replay = await collect(it, (all) => all.flatMap((r) => r.events).length >= 3);
      const evs = replay.filter((r) => r.watchId === id1).flatMap((r) => r.events);
      expect(evs.map((e) => [e.type, s(e.kv.value)])).toEqual([
        ['put', '1'],
        ['put', '2'],
        ['delete', ''],
      ]);
      expect(s(evs[1]?.prevKv?.value)).toBe('1');
      expect(evs[2]?.kv.modRevision).toBe(first.header.revision + 2);

      const live = await c.put({ key: 'w/b', value: 'live' });
      await c.deleteRange({ key: 'w/b' });
      const got = await collect(it, (all) => all.filter((r) => r.watchId === id2 && r.events.length > 0).length >= 1 && all.flatMap((r) => r.events).length >= 3);
      const w1 = got.filter((r) => r.watchId === id1).flatMap((r) => r.events);
      const w2 = got.filter((r) => r.watchId === id2).flatMap((r) => r.events);
      expect(w1.map((e) => e.type)).toEqual(['put', 'delete']);
      expect(w1[0]?.kv.modRevision).toBe(live.header.revision);
      expect(w2.map((e) => e.type)).toEqual(['delete']);
      expect(s(w2[0]?.kv.key)).toBe('w/b');

      w.requestProgress();
      const progress = await collect(it, (all) => all.some((r) => !r.created && !r.canceled && r.events.length === 0));
      expect(progress.at(-1)?.header.revision).toBeGreaterThanOrEqual(live.header.revision + 1);

      w.cancel(id1 as number);
      const canceled = await collect(it, (all) => all.some((r) => r.canceled));
      expect(canceled.find((r) => r.canceled)?.watchId).toBe(id1);
      // The canceled watcher gets nothing more; the other still works.
      await c.deleteRange({ key: 'w/', rangeEnd: 'w0' });
      await c.put({ key: 'w/c', value: 'x' });
      await c.deleteRange({ key: 'w/c' });
      const after = await collect(it, (all) => all.some((r) => r.events.length > 0));
      expect(after.every((r) => r.watchId === id2)).toBe(true);
    } finally {
      w.close();
    }
    // The iterator ends quietly after close().
    expect((await it.next()).done).toBe(true);
  });

  it('compacts; a watch or a read below the compaction fails as etcd says', async () => {
    const a = await c.put({ key: 'cmp/k', value: '1' });
    const b = await c.put({ key: 'cmp/k', value: '2' });
    await c.compact(b.header.revision, { physical: true });

    const e = await rejection(c.range({ key: 'cmp/k', revision: a.header.revision }));
    expect(e.code).toBe(Status.OUT_OF_RANGE);
    expect(e.message).toBe(catalog.Compacted.message);
    expect(e.definite).toBe(true);
    // The same error in a txn that would write is still definite: the txn is checked first.
    const t = await rejection(c.txn({ success: [{ range: { key: 'cmp/k', revision: a.header.revision } }, { put: { key: 'cmp/x', value: 'x' } }] }));
    expect(t.message).toBe(catalog.Compacted.message);
    expect(t.definite).toBe(true);
    expect((await c.range({ key: 'cmp/x' })).count).toBe(0);

    const w = c.watch();
    const it = w[Symbol.asyncIterator]();
    try {
      w.create({ key: 'cmp/k', startRevision: a.header.revision });
      const rs = await collect(it, (all) => all.some((r) => r.canceled));
      const canceled = rs.find((r) => r.canceled);
      expect(canceled?.compactRevision).toBe(b.header.revision);
    } finally {
      w.close();
    }
  });

  it('locks: a second contender waits until the first unlocks; a wait past the deadline is indefinite', async () => {
    const a = await c.leaseGrant(60);
    const b = await c.leaseGrant(60);
    try {
      const first = await c.lock('lk', a.id);
      // etcd's Mutex: the waiter key is <name>/<lease id in lowercase hex>.
      expect(s(first.key)).toBe(`lk/${a.id.toString(16)}`);
      const held = await c.range({ key: first.key });
      expect(held.kvs[0]?.lease).toBe(a.id);
      expect(first.header.revision).toBeGreaterThanOrEqual(held.kvs[0]?.createRevision ?? Infinity);

      let granted = false;
      const second = c.lock(Buffer.from('lk'), b.id, { timeoutMs: 10_000 }).then((r) => {
        granted = true;
        return r;
      });
      // The second waiter key is queued behind the first (bounded wait for it to appear).
      let waiting = await c.range({ key: `lk/${b.id.toString(16)}` });
      for (let i = 0; i < 100 && waiting.kvs.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        waiting = await c.range({ key: `lk/${b.id.toString(16)}` });
      }
      expect(waiting.kvs[0]?.createRevision).toBeGreaterThan(held.kvs[0]?.createRevision ?? Infinity);
      expect(granted).toBe(false);

      const released = await c.unlock(first.key);
      const got = await second;
      expect(s(got.key)).toBe(`lk/${b.id.toString(16)}`);
      // Granted after (and because of) the first key's deletion.
      expect(got.header.revision).toBeGreaterThanOrEqual(released.header.revision);
      expect((await c.range({ key: first.key })).count).toBe(0);

      // A third contender while the lock is held: its wait ends at the deadline with the outcome
      // unknown (its waiter key was put, and stays queued until etcd sees the call go away).
      const late = await rejection(c.lock('lk', a.id, { timeoutMs: 500 }));
      // The deadline travels with the call, so etcd's own context may expire first: then its
      // embedded client's "context deadline exceeded" comes back as UNKNOWN. Indefinite either way.
      expect([Status.DEADLINE_EXCEEDED, Status.UNKNOWN]).toContain(late.code);
      expect(late.definite).toBe(false);
      expect(late.method).toBe('/v3lockpb.Lock/Lock');

      await c.unlock(got.key);
      // Unlocking a key that is gone is no error.
      await c.unlock(got.key);
    } finally {
      await c.leaseRevoke(a.id).catch(() => undefined);
      await c.leaseRevoke(b.id).catch(() => undefined);
    }
    expect((await c.range({ key: 'lk/', rangeEnd: 'lk0' })).count).toBe(0);

    // A lease that does not exist: refused before anything is written, whatever the status code.
    const noLease = await rejection(c.lock('lk', 999n));
    expect(noLease.message).toBe(catalog.LeaseNotFound.message);
    expect(noLease.definite).toBe(true);
  });

  it('reports status and members', async () => {
    const st = await c.status(0);
    expect(st.version).toMatch(/^3\.[45]\./);
    expect(st.leader).toBe(st.header.memberId);
    expect(st.raftIndex).toBeGreaterThan(0);
    expect(st.dbSize).toBeGreaterThan(0);
    const ml = await c.memberList();
    expect(ml.members).toHaveLength(1);
    expect(ml.members[0]?.id).toBe(st.header.memberId);
    expect(ml.members[0]?.name).toBe(etcd.memberName);
    expect(ml.members[0]?.clientUrls).toEqual(etcd.endpoints);
  });

  it('classifies real errors', async () => {
    const noLease = await rejection(c.put({ key: 'err/k', value: 'v', lease: 999n }));
    expect(noLease.code).toBe(Status.NOT_FOUND);
    expect(noLease.message).toBe(catalog.LeaseNotFound.message);
    expect(noLease.definite).toBe(true);

    const ops = Array.from({ length: 129 }, (_, i) => ({ put: { key: `err/${i}`, value: 'v' } }));
    const tooMany = await rejection(c.txn({ success: ops }));
    expect(tooMany.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooMany.message).toBe(catalog.TooManyOps.message);
    expect(tooMany.definite).toBe(true);

    const dup = await rejection(c.txn({ success: [{ put: { key: 'err/d', value: '1' } }, { put: { key: 'err/d', value: '2' } }] }));
    expect(dup.message).toBe(catalog.DuplicateKey.message);
    expect(dup.definite).toBe(true);

    const empty = await rejection(c.put({ key: '', value: 'v' }));
    expect(empty.message).toBe(catalog.EmptyKey.message);
    expect(empty.definite).toBe(true);

    // A server that accepts connections and never answers: the deadline passes, and for all
    // the client knows the write may have happened.
    const sockets: Socket[] = [];
    const hole = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const holeClient = new EtcdClient({ endpoints: [`127.0.0.1:${(hole.address() as AddressInfo).port}`], timeoutMs: 300 });
    try {
      const late = await rejection(holeClient.put({ key: 'err/late', value: 'v' }));
      console.log('LATE', late.code, JSON.stringify(late.message));
      expect(late.code).toBe(Status.DEADLINE_EXCEEDED);
      expect(late.definite).toBe(false);
      // The same for a read is definite: a read changes nothing.
      const lateRead = await rejection(holeClient.range({ key: 'err/late' }));
      expect(lateRead.code).toBe(Status.DEADLINE_EXCEEDED);
      expect(lateRead.definite).toBe(true);
    } finally {
      holeClient.close();
      for (const sock of sockets) sock.destroy();
      hole.close();
    }

    // Nobody listening: grpc-js fails the call without sending it, so even a write is definite.
    const dead = new EtcdClient({ endpoints: [`http://127.0.0.1:${await freePort()}`], timeoutMs: 2000 });
    try {
      const down = await rejection(dead.put({ key: 'k', value: 'v' }));
      expect(down.code).toBe(Status.UNAVAILABLE);
      expect(down.message).toMatch(/^No connection established/);
      expect(down.definite).toBe(true);
      const downRead = await rejection(dead.range({ key: 'k' }));
      expect(downRead.definite).toBe(true);
    } finally {
      dead.close();
    }
  });

  it('keeps endpoints apart: pinned, round-robin, per call', async () => {
    const other = `http://127.0.0.1:${await freePort()}`;
    const ep = etcd.endpoints[0] as string;
    const rr = new EtcdClient({ endpoints: [ep, other], timeoutMs: 2000 });
    const pinned = new EtcdClient({ endpoints: [other, ep], balance: { pinned: 1 } });
    try {
      // Round-robin alternates: one of two consecutive calls hits the dead endpoint.
      const results = await Promise.allSettled([rr.range({ key: 'x' }), rr.range({ key: 'x' })]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      await expect(rr.range({ key: 'x' }, { endpoint: 0 })).resolves.toBeDefined();
      const failed = await rejection(rr.range({ key: 'x' }, { endpoint: 1 }));
      expect(failed.endpoint).toBe(other);
      for (let i = 0; i < 3; i++) await pinned.range({ key: 'x' });
    } finally {
      rr.close();
      pinned.close();
    }
  });

  it('Mutex over a Session: the second locker waits until the first unlocks; closing a session releases its lease', async () => {
    const [sa, sb] = [await Session.open(c, 10), await Session.open(c, 10)];
    const [a, b] = [new Mutex(c, sa, 'mutex-test'), new Mutex(c, sb, 'mutex-test')];
    expect(a.key.toString()).toBe(`mutex-test/${sa.lease.toString(16)}`);
    await a.lock();
    let bHolds = false;
    const bLocked = b.lock().then(() => (bHolds = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(bHolds).toBe(false);
    await a.unlock();
    await bLocked;
    expect((await c.range({ key: 'mutex-test/', rangeEnd: prefixEnd(Buffer.from('mutex-test/')) })).kvs.map((kv) => s(kv.key))).toEqual([b.key.toString()]);
    await sb.close();
    await sa.close();
    expect((await c.range({ key: 'mutex-test/', rangeEnd: prefixEnd(Buffer.from('mutex-test/')), countOnly: true })).count).toBe(0);
    expect(prefixEnd(Buffer.from([0x61, 0xff]))).toEqual(Buffer.from([0x62]));
    expect(prefixEnd(Buffer.from([0xff]))).toEqual(Buffer.from([0]));
  });
});

// Last, as it stops the server.
describe.skipIf(!ready)(`${title}: streams when the server goes away`, () => {
  it('a watch iterator throws and pending keep-alives fail, UNAVAILABLE', async () => {
    const t = await startTarget();
    const c = new EtcdClient({ endpoints: t.endpoints });
    try {
      const lease = await c.leaseGrant(60);
      const w = c.watch();
      w.create({ key: 'gone' });
      const it = w[Symbol.asyncIterator]();
      expect((await it.next()).value?.created).toBe(true);
      const ka = c.leaseKeepAlive({ timeoutMs: 10_000 });
      await ka.send(lease.id);
      const pendingSend = ka.send(lease.id).catch((e: unknown) => e);
      const nextResponse = it.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      await t.stop();
      const watchErr = await nextResponse;
      expect(watchErr).toBeInstanceOf(ClientError);
      expect((watchErr as ClientError).code).toBe(Status.UNAVAILABLE);
      expect((watchErr as ClientError).definite).toBe(true); // a watch only reads
      const kaErr = await pendingSend;
      // Answered before the stop, or failed; if failed, indefinite: it was sent.
      if (kaErr instanceof ClientError) expect(kaErr.definite).toBe(false);
      await expect(ka.send(lease.id)).rejects.toMatchObject({ definite: true });
    } finally {
      c.close();
      await t.stop();
    }
  });
});

describe('client error classification table', () => {
  it('has one rule per message and per code, each with a reason', () => {
    const keys = CLASSIFICATION.map((r) => ('message' in r.match ? `m:${r.match.message}` : 'prefix' in r.match ? `p:${r.match.prefix}` : `c:${r.match.code}`));
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of CLASSIFICATION) expect(r.why.length).toBeGreaterThan(10);
  });

  it('puts the errors the harness depends on where they belong', () => {
    const definite = [
      [Status.UNAVAILABLE, catalog.NoLeader.message],
      [Status.NOT_FOUND, catalog.LeaseNotFound.message],
      [Status.OUT_OF_RANGE, catalog.Compacted.message],
      [Status.RESOURCE_EXHAUSTED, catalog.TooManyRequests.message],
      [Status.INVALID_ARGUMENT, catalog.RequestTooLarge.message],
      [Status.INVALID_ARGUMENT, 'anything invalid'],
      [Status.UNIMPLEMENTED, 'unknown method'],
      // Never sent: grpc-js had no connection to send it on.
      [Status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379'],
      [Status.UNAVAILABLE, catalog.Stopped.message],
    ] as const;
    for (const [code, msg] of definite) expect(classify(code, msg).definite, msg).toBe(true);
    const indefinite = [
      [Status.DEADLINE_EXCEEDED, 'Deadline exceeded'],
      [Status.UNAVAILABLE, 'Connection dropped'],
      [Status.UNAVAILABLE, catalog.Timeout.message],
      [Status.UNAVAILABLE, catalog.LeaderChanged.message],
      [Status.UNAVAILABLE, catalog.TimeoutDueToLeaderFail.message],
      [Status.CANCELLED, 'Cancelled on client'],
      [Status.UNKNOWN, 'something'],
      [99, 'a code nobody knows'],
    ] as const;
    for (const [code, msg] of indefinite) expect(classify(code, msg).definite, msg).toBe(false);
  });
});
