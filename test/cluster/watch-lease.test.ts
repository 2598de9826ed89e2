/**
 * Watch, lease, lock and election on a real 3-member tsetcd cluster, through the etcd3 package
 * and etcdctl 3.4: history replay and live events, equal on every member; the compacted-revision
 * error; progress notifications; filters and prevKv; keep-alives forwarded by a follower;
 * `etcdctl lock` and `etcdctl elect` across members. Lease expiry in time (through a follower,
 * across a leader crash) is tested on simulated time: test/sim-cluster/cluster-lease.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, type LocalMember } from '../../cluster/local-cluster.js';
import { ETCDCTL, etcdctl, hasEtcdctl } from '../api/helpers.js';
import { Clients, leaderOf, waitFor } from './helpers.js';

const ELECTION_MS = 1000;
let cluster: LocalCluster;
const clients = new Clients();
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await LocalCluster.create({ size: 3, flags: ['--election-timeout', String(ELECTION_MS), '--experimental-watch-progress-notify-interval', '300ms'] });
  cluster.startAll();
  await waitFor('a leader', () => leaderOf(clients, cluster.members), 30_000);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  clients.closeAll();
  await cluster?.stopAll('SIGKILL');
});

const running = (): LocalMember[] => cluster.members.filter((m) => m.process !== undefined && m.process.exitCode === null && m.process.signalCode === null);

/** An event as a line: type key@mod_revision=value (and the previous value, when sent). */
interface Line {
  readonly line: string;
  readonly rev: number;
}

/** Collects a watcher's events as lines, in arrival order, and counts responses without events. */
function collect(w: Watcher): { lines: Line[]; progress: number } {
  const out = { lines: [] as Line[], progress: 0 };
  w.on('data', (res) => {
    if (res.events.length === 0) out.progress++;
    for (const ev of res.events) {
      const kv = ev.kv as IKeyValue;
      const prev = ev.prev_kv ? ` prev=${ev.prev_kv.value.toString()}` : '';
      out.lines.push({ line: `${ev.type} ${kv.key.toString()}@${kv.mod_revision}=${kv.value.toString()}${prev}`, rev: Number(kv.mod_revision) });
    }
  });
  return out;
}

async function currentRev(c: Etcd3): Promise<number> {
  return Number((await c.get('nothing-here').exec()).header.revision);
}

describe('watch on a 3-member cluster', () => {
  it('replays history and delivers live events; every member sends the same events in the same order', async () => {
    const members = running();
    const start = (await currentRev(clients.of(members[0] as LocalMember))) + 1;
    // A live watcher on each member, created before the writes.
    const live = await Promise.all(members.map(async (m) => collect(await clients.of(m).watch().prefix('h/').withPreviousKV().create())));
    // Writes spread over the members: puts, overwrites, deletes and multi-key txns.
    let expectedEvents = 0;
    for (let i = 0; i < 60; i++) {
      const c = clients.of(members[i % members.length] as LocalMember);
      if (i % 10 === 9) {
        await c.delete().key(`h/${i % 7}`);
      } else if (i % 10 === 5) {
        await c.if(`h/${i % 7}`, 'Version', '>', -1).then(c.put(`h/t${i}`).value('a'), c.put(`h/u${i}`).value('b')).commit();
      } else {
        await c.put(`h/${i % 7}`).value(`v${i}`);
      }
    }
    const end = await currentRev(clients.of(members[0] as LocalMember));
    expect(end).toBeGreaterThan(start);
    // Every revision from start to end is one of these writes (no other writer uses h/).
    const replayed = await Promise.all(
      members.map(async (m) => {
        const got = collect(await clients.of(m).watch().prefix('h/').withPreviousKV().startRevision(String(start)).create());
        await waitFor('the replay', async () => (got.lines.at(-1)?.rev === end ? true : undefined), 10_000);
        return got.lines.map((l) => l.line);
      }),
    );
    await waitFor('live events on every member', async () => (live.every((l) => l.lines.at(-1)?.rev === end) ? true : undefined), 10_000);
    const leaderView = live[0]?.lines.map((l) => l.line) ?? [];
    expectedEvents = leaderView.length;
    expect(expectedEvents).toBeGreaterThanOrEqual(60);
    for (const l of live) expect(l.lines.map((x) => x.line)).toEqual(leaderView);
    for (const r of replayed) expect(r).toEqual(leaderView);
    // Revisions never go back; every event carries its previous value unless the key was new.
    const revs = live[0]?.lines.map((l) => l.rev) ?? [];
    expect(revs).toEqual([...revs].sort((a, b) => a - b));
    expect(leaderView.filter((l) => l.startsWith('Put') && / prev=/.test(l)).length).toBeGreaterThan(20);

    // A watch restarted at revision r + 1 sees exactly the events after r.
    const mid = revs[Math.floor(revs.length / 2)] as number;
    const resumed = collect(await clients.of(members[1] as LocalMember).watch().prefix('h/').withPreviousKV().startRevision(String(mid + 1)).create());
    await waitFor('the resumed watch', async () => (resumed.lines.at(-1)?.rev === end ? true : undefined), 10_000);
    expect(resumed.lines.map((l) => l.line)).toEqual(live[0]?.lines.filter((l) => l.rev > mid).map((l) => l.line));
  }, 60_000);

  it('filters puts or deletes as asked', async () => {
    const m = running()[1] as LocalMember;
    const c = clients.of(m);
    // etcd3's ignore('put') sends NODELETE and ignore('delete') sends NOPUT (its names are the
    // other way round); the wire filter is what is checked here.
    const onlyPuts = collect(await c.watch().key('f').ignore('put').create());
    const onlyDeletes = collect(await c.watch().key('f').ignore('delete').create());
    await c.put('f').value('1');
    await c.delete().key('f');
    await c.put('f').value('2');
    await waitFor('filtered events', async () => (onlyPuts.lines.length === 2 && onlyDeletes.lines.length === 1 ? true : undefined), 10_000);
    expect(onlyPuts.lines.map((l) => l.line.split(' ')[0])).toEqual(['Put', 'Put']);
    expect(onlyDeletes.lines.map((l) => l.line.split(' ')[0])).toEqual(['Delete']);
  });

  it('sends progress notifications to an idle watcher (etcd3 asks for them)', async () => {
    const w = collect(await clients.of(running()[2] as LocalMember).watch().key('idle-key').create());
    await waitFor('two progress notifications', async () => (w.progress >= 2 ? true : undefined), 5_000);
    expect(w.lines).toEqual([]);
  });

  it.skipIf(!hasEtcdctl)('refuses a watch from a compacted revision, as etcd does (etcdctl and etcd3)', async () => {
    const m = running()[0] as LocalMember;
    const c = clients.of(m);
    await c.put('cmp').value('1');
    await c.put('cmp').value('2');
    const rev = await currentRev(c);
    await c.kv.compact({ revision: String(rev), physical: true });
    const r = await etcdctl(m.clientUrl, ['watch', '--rev=1', 'cmp']);
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n');
    const w = c.watch().key('cmp').startRevision('1').watcher();
    const err = await new Promise<Error>((resolve) => w.on('error', resolve));
    // etcd 3.4 sends no cancel reason with a compacted cancel, so etcd3's message ends there.
    expect(err.message).toBe('Watcher canceled: ');
  });
});

describe('leases on a 3-member cluster', () => {
  it('keep-alives sent together on a follower are forwarded to the leader together and each answered: TTL for a lease, 0 for an unknown one', async () => {
    const leader = (await leaderOf(clients, running())) as LocalMember;
    const c = clients.of(running().find((m) => m !== leader) as LocalMember);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await c.leaseClient.leaseGrant({ TTL: 30 + i })).ID);
    const unknown = '1234567';
    const stream = await c.leaseClient.leaseKeepAlive();
    const answers = new Map<string, string>();
    const all = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: { ID: string; TTL: string }) => {
        answers.set(r.ID, r.TTL);
        if (answers.size === ids.length + 1) resolve();
      });
      stream.on('error', reject);
    });
    // Written in one go: the follower receives them in the same turn and forwards one request.
    for (const id of [...ids, unknown]) stream.write({ ID: id });
    await all;
    stream.end();
    expect(answers.get(unknown)).toBe('0');
    ids.forEach((id, i) => expect(answers.get(id)).toBe(String(30 + i)));
    for (const id of ids) await c.leaseClient.leaseRevoke({ ID: id });
  }, 20_000);
});

/** A long-running etcdctl whose standard output is collected; stopped by its PID in afterAll if still running. */
function spawnEtcdctl(endpoint: string, args: readonly string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(ETCDCTL, ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  // stdout only: etcdctl's client logs its retries (e.g. while a restarted member finds the
  // leader) on stderr.
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => text, exited };
}

describe.skipIf(!hasEtcdctl)('etcdctl lock and elect on a 3-member cluster', () => {
  it('lock: a second contender waits until the first releases, on another member', async () => {
    const [a, b] = running() as [LocalMember, LocalMember];
    const first = spawnEtcdctl(a.clientUrl, ['lock', 'mylock']);
    await waitFor('the first lock', async () => (first.out().startsWith('mylock/') ? true : undefined), 10_000).catch((e: unknown) => {
      throw new Error(`${String(e)}; etcdctl printed ${JSON.stringify(first.out())} (${a.name})`);
    });
    // The second runs its command while it holds the lock: it prints what `holder` says then.
    await etcdctl(a.clientUrl, ['put', 'holder', 'first']);
    const second = spawnEtcdctl(b.clientUrl, ['lock', 'mylock', '--', 'sh', '-c', `${ETCDCTL} --endpoints ${b.clientUrl} get holder --print-value-only`]);
    await waitFor('the second waiter key', async () => ((await etcdctl(a.clientUrl, ['get', 'mylock', '--prefix', '--keys-only'])).stdout.trim().split('\n').filter((l) => l !== '').length === 2 ? true : undefined), 10_000);
    await etcdctl(a.clientUrl, ['put', 'holder', 'released']);
    first.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    // Had it taken the lock while the first held it, it would have read 'first'.
    expect(second.out()).toBe('released\n');
  }, 30_000);

  it('lock: a holder that dies releases the lock when its session lease expires', async () => {
    const [a, b] = running() as [LocalMember, LocalMember];
    const first = spawnEtcdctl(a.clientUrl, ['lock', '--ttl=2', 'deadlock']);
    await waitFor('the first lock', async () => (first.out().startsWith('deadlock/') ? true : undefined), 10_000);
    first.child.kill('SIGKILL');
    const second = spawnEtcdctl(b.clientUrl, ['lock', 'deadlock', 'echo', 'after-expiry']);
    expect(await second.exited).toBe(0);
    expect(second.out()).toBe('after-expiry\n');
  }, 30_000);

  it('elect: one leader at a time; an observer sees each proclaimed leader', async () => {
    const [a, b, c] = running() as [LocalMember, LocalMember, LocalMember];
    const observer = spawnEtcdctl(c.clientUrl, ['elect', '-l', 'myelection']);
    const one = spawnEtcdctl(a.clientUrl, ['elect', 'myelection', 'p1']);
    await waitFor('p1 elected', async () => (/^myelection\/[0-9a-f]+\np1\n$/.test(one.out()) ? true : undefined), 10_000);
    const two = spawnEtcdctl(b.clientUrl, ['elect', 'myelection', 'p2']);
    // p2 campaigns (its key is there) but p1 still leads: the observer has seen only p1.
    await waitFor('the second candidate key', async () => ((await etcdctl(a.clientUrl, ['get', 'myelection', '--prefix', '--keys-only'])).stdout.trim().split('\n').filter((l) => l !== '').length === 2 ? true : undefined), 10_000);
    expect(observer.out()).not.toMatch(/p2/);
    one.child.kill('SIGINT');
    await waitFor('p2 elected', async () => (/^myelection\/[0-9a-f]+\np2\n$/.test(two.out()) ? true : undefined), 10_000);
    await waitFor('the observer saw both', async () => (/p1\n[^]*p2\n$/.test(observer.out()) ? true : undefined), 10_000);
    two.child.kill('SIGINT');
    observer.child.kill('SIGINT');
    await waitFor('no candidates left', async () => ((await etcdctl(a.clientUrl, ['get', 'myelection', '--prefix', '--keys-only'])).stdout === '' ? true : undefined), 10_000);
  }, 30_000);
});
