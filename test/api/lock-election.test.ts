/**
 * The Lock and Election services (v3lockpb, v3electionpb) over gRPC with a plain grpc-js client,
 * with the answers, error texts and codes a real etcd 3.4 gives; and etcdctl's `lock` and
 * `elect`, which run the same recipes client-side over KV, Lease and Watch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcCode } from '../../src/errors.js';
import { ETCDCTL, callUnary, hasEtcdctl, rawClient, startFake, StreamRecorder, until, type FakeServer } from './helpers.js';

type Raw = ReturnType<typeof rawClient>;
const b = (s: string): Buffer => Buffer.from(s);

interface LeaderKeyOut {
  name: Buffer;
  key: Buffer;
  rev: string;
  lease: string;
}

async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('expected a rejection');
}


describe('api: Lock and Election over gRPC', () => {
  let fake: FakeServer;
  let lockClient: Raw;
  let electionClient: Raw;
  const grant = async (ttl = 60): Promise<bigint> => (await fake.member.leaseGrant(ttl, 0n)).id;
  const getKey = async (key: Uint8Array) => (await fake.member.range({ key })).kvs[0];

  beforeAll(async () => {
    fake = await startFake();
    lockClient = rawClient(fake.endpoint, 'v3lockpb.Lock');
    electionClient = rawClient(fake.endpoint, 'v3electionpb.Election');
  });
  afterAll(async () => {
    lockClient.close();
    electionClient.close();
    await fake.close();
  });

  it('locks with a key <name>/<lease hex> put with the lease; the same lease gets the same key back', async () => {
    const lease = await grant();
    const r = await callUnary<{ header: { revision: string }; key: Buffer }>(lockClient, 'Lock', { name: b('mylock'), lease: lease.toString() });
    expect(r.key.toString()).toBe(`mylock/${lease.toString(16)}`);
    const kv = await getKey(r.key);
    expect(kv?.lease).toBe(lease);
    expect(kv?.value.length).toBe(0);
    expect(r.header.revision).toBe(String(kv?.createRevision));
    const again = await callUnary<{ header: { revision: string }; key: Buffer }>(lockClient, 'Lock', { name: b('mylock'), lease: lease.toString() });
    expect(again.key).toEqual(r.key);
    expect((await getKey(r.key))?.version).toBe(1);
    await callUnary(lockClient, 'Unlock', { key: r.key });
    expect(await getKey(r.key)).toBeUndefined();
  });

  it('refuses a missing lease and an empty unlock key with etcd texts, as UNKNOWN like etcd', async () => {
    const missing = await rejection(callUnary(lockClient, 'Lock', { name: b('l'), lease: '12345' }));
    expect([missing.code, missing.details]).toEqual([GrpcCode.UNKNOWN, 'etcdserver: requested lease not found']);
    const empty = await rejection(callUnary(lockClient, 'Unlock', {}));
    expect([empty.code, empty.details]).toEqual([GrpcCode.UNKNOWN, 'etcdserver: key is not provided']);
  });

  it('locks without a lease on a new lease of 60 s, as etcd does', async () => {
    const r = await callUnary<{ key: Buffer }>(lockClient, 'Lock', { name: b('nolease') });
    const kv = await getKey(r.key);
    expect(kv).toBeDefined();
    expect(r.key.toString()).toBe(`nolease/${kv?.lease.toString(16)}`);
    expect((await fake.member.leaseTimeToLive(kv?.lease ?? 0n, false)).grantedTtl).toBe(60);
  });

  it('makes a second locker wait until the first unlocks', async () => {
    const [l1, l2] = [await grant(), await grant()];
    const first = await callUnary<{ key: Buffer }>(lockClient, 'Lock', { name: b('queue'), lease: l1.toString() });
    const second = callUnary<{ header: { revision: string }; key: Buffer }>(lockClient, 'Lock', { name: b('queue'), lease: l2.toString() });
    // Queued behind the first: its waiter key is there; it is granted only by the unlock below.
    await expect.poll(() => getKey(b(`queue/${l2.toString(16)}`))).toBeDefined();
    const unlocked = await callUnary<{ header: { revision: string } }>(lockClient, 'Unlock', { key: first.key });
    const got = await second;
    expect(got.key.toString()).toBe(`queue/${l2.toString(16)}`);
    expect(Number(got.header.revision)).toBeGreaterThanOrEqual(Number(unlocked.header.revision));
  });

  it('releases the lease expiring the holder, and deletes a waiter whose client gave up', async () => {
    const [l1, l2, l3] = [await grant(), await grant(), await grant()];
    await callUnary(lockClient, 'Lock', { name: b('exp'), lease: l1.toString() });
    const waiter = callUnary(lockClient, 'Lock', { name: b('exp'), lease: l2.toString() }, { deadline: Date.now() + 300 });
    const gaveUp = await rejection(waiter);
    expect(gaveUp.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    const waiterKey = b(`exp/${l2.toString(16)}`);
    await expect.poll(() => getKey(waiterKey), { timeout: 3000 }).toBeUndefined();
    const third = callUnary<{ header: { revision: string }; key: Buffer }>(lockClient, 'Lock', { name: b('exp'), lease: l3.toString() });
    await expect.poll(() => getKey(b(`exp/${l3.toString(16)}`))).toBeDefined();
    await fake.member.expireLease(l1);
    const expiredAt = (await fake.member.range({ key: b('exp') })).header.revision;
    const got = await third;
    expect(got.key.toString()).toBe(`exp/${l3.toString(16)}`);
    // Granted by the expiry of the holder's lease, not before it.
    expect(Number(got.header.revision)).toBeGreaterThanOrEqual(expiredAt);
  });

  it('campaigns, reports the leader, proclaims, and resigns, with etcd errors', async () => {
    const noLeader = await rejection(callUnary(electionClient, 'Leader', { name: b('el') }));
    expect([noLeader.code, noLeader.details]).toEqual([GrpcCode.UNKNOWN, 'election: no leader']);

    const lease = await grant();
    const c = await callUnary<{ header: { revision: string }; leader: LeaderKeyOut }>(electionClient, 'Campaign', {
      name: b('el'),
      lease: lease.toString(),
      value: b('v1'),
    });
    expect(c.leader.name.toString()).toBe('el');
    expect(c.leader.key.toString()).toBe(`el/${lease.toString(16)}`);
    expect(c.leader.lease).toBe(lease.toString());
    expect(c.leader.rev).toBe(c.header.revision);

    const l = await callUnary<{ kv: { key: Buffer; value: Buffer; create_revision: string } }>(electionClient, 'Leader', { name: b('el') });
    expect([l.kv.key.toString(), l.kv.value.toString(), l.kv.create_revision]).toEqual([c.leader.key.toString(), 'v1', c.leader.rev]);

    // Campaigning again with the same lease keeps the key (and its rev) and proclaims the new value.
    const again = await callUnary<{ header: { revision: string }; leader: LeaderKeyOut }>(electionClient, 'Campaign', {
      name: b('el'),
      lease: lease.toString(),
      value: b('v2'),
    });
    expect(again.leader.rev).toBe(c.leader.rev);
    expect((await getKey(c.leader.key))?.value.toString()).toBe('v2');

    await callUnary(electionClient, 'Proclaim', { leader: c.leader, value: b('v3') });
    expect((await getKey(c.leader.key))?.value.toString()).toBe('v3');
    const notLeader = await rejection(callUnary(electionClient, 'Proclaim', { leader: { ...c.leader, rev: 1 }, value: b('x') }));
    expect([notLeader.code, notLeader.details]).toEqual([GrpcCode.UNKNOWN, 'election: not leader']);
    const noKey = await rejection(callUnary(electionClient, 'Proclaim', { value: b('x') }));
    expect([noKey.code, noKey.details]).toEqual([GrpcCode.UNKNOWN, '"leader" field must be provided']);
    const noKeyResign = await rejection(callUnary(electionClient, 'Resign', {}));
    expect(noKeyResign.details).toBe('"leader" field must be provided');

    // Resigning with a stale rev does nothing; with the right one it deletes the key.
    await callUnary(electionClient, 'Resign', { leader: { ...c.leader, rev: 1 } });
    expect(await getKey(c.leader.key)).toBeDefined();
    await callUnary(electionClient, 'Resign', { leader: c.leader });
    expect(await getKey(c.leader.key)).toBeUndefined();
  });

  it('makes a second candidate wait, and streams every leader change to observers', async () => {
    const observe = (electionClient['Observe'] as (r: object) => grpc.ClientReadableStream<Record<string, unknown>>).call(electionClient, {
      name: b('obs'),
    });
    const rec = new StreamRecorder(observe);
    const [l1, l2] = [await grant(), await grant()];
    const first = await callUnary<{ leader: LeaderKeyOut }>(electionClient, 'Campaign', { name: b('obs'), lease: l1.toString(), value: b('one') });
    const second = callUnary<{ leader: LeaderKeyOut }>(electionClient, 'Campaign', { name: b('obs'), lease: l2.toString(), value: b('two') });
    // The second candidate is queued (its key is there) while the first leads; the observer's
    // record below shows it took over only after the first resigned.
    await expect.poll(() => getKey(b(`obs/${l2.toString(16)}`))).toBeDefined();
    await callUnary(electionClient, 'Proclaim', { leader: first.leader, value: b('three') });
    await callUnary(electionClient, 'Resign', { leader: first.leader });
    const won = await second;
    expect(won.leader.key.toString()).toBe(`obs/${l2.toString(16)}`);
    await rec.waitFor(3);
    const seen = rec.responses.map((r) => {
      const kv = r['kv'] as { key: Buffer; value: Buffer; mod_revision: string };
      return [kv.key.toString(), kv.value.toString(), (r['header'] as { revision: string }).revision === kv.mod_revision];
    });
    expect(seen).toEqual([
      [first.leader.key.toString(), 'one', true],
      [first.leader.key.toString(), 'three', true],
      [won.leader.key.toString(), 'two', false],
    ]);
    observe.cancel();
  });

  it('withdraws a candidate whose client gave up waiting', async () => {
    const [l1, l2] = [await grant(), await grant()];
    await callUnary(electionClient, 'Campaign', { name: b('gone'), lease: l1.toString(), value: b('a') });
    const gaveUp = await rejection(
      callUnary(electionClient, 'Campaign', { name: b('gone'), lease: l2.toString(), value: b('b') }, { deadline: Date.now() + 300 }),
    );
    expect(gaveUp.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    await expect.poll(() => getKey(b(`gone/${l2.toString(16)}`)), { timeout: 3000 }).toBeUndefined();
  });
});

/** A long-running etcdctl (lock holder, candidate, observer) and what it printed so far. */
interface Running {
  readonly child: ChildProcess;
  stdout: string;
  readonly exited: Promise<number | null>;
}

function startEtcdctl(endpoint: string, args: readonly string[]): Running {
  const child = spawn(ETCDCTL, [`--endpoints=${endpoint}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = {
    child,
    stdout: '',
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (running.stdout += d));
  return running;
}

const title = hasEtcdctl ? 'api: etcdctl lock and elect' : `api: etcdctl lock and elect (SKIPPED: ${ETCDCTL} is missing)`;

describe.skipIf(!hasEtcdctl)(title, () => {
  let fake: FakeServer;
  const started: Running[] = [];
  const run = (args: readonly string[]): Running => {
    const r = startEtcdctl(fake.endpoint, args);
    started.push(r);
    return r;
  };
  /** Stops a holder the way a user does (Ctrl-C): etcdctl then releases what it holds. */
  const interrupt = async (r: Running): Promise<void> => {
    r.child.kill('SIGINT');
    await r.exited;
  };

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    for (const r of started) if (r.child.exitCode === null && r.child.pid !== undefined) r.child.kill('SIGKILL');
    await fake.close();
  });

  it('runs a command under a lock, with the lock key in its environment', async () => {
    const r = run(['lock', 'cmdlock', '--', 'sh', '-c', 'echo "key=$ETCD_LOCK_KEY"']);
    expect(await r.exited).toBe(0);
    expect(r.stdout).toMatch(/^key=cmdlock\/[0-9a-f]+\n$/);
    // The command's lock is released afterwards.
    expect((await fake.member.range({ key: b('cmdlock/'), rangeEnd: b('cmdlock0') })).kvs).toEqual([]);
  });

  it('makes a second locker wait until the first lets go', async () => {
    const holder = run(['lock', 'shared']);
    await until(() => holder.stdout !== '', 5000, () => 'the first lock');
    // etcdctl prints the key and a blank line, as against etcd.
    expect(holder.stdout).toMatch(/^shared\/[0-9a-f]+\n\n$/);
    const second = run(['lock', 'shared', '--', 'echo', 'second ran']);
    // Queued: two waiter keys, and the second has not run its command.
    await until(async () => (await fake.member.range({ key: b('shared/'), rangeEnd: b('shared0') })).kvs.length === 2, 5000, () => 'the second waiter key');
    expect(second.stdout).toBe('');
    await interrupt(holder);
    expect(await second.exited).toBe(0);
    expect(second.stdout).toBe('second ran\n');
  });

  it('elects one leader at a time, and an observer sees each', async () => {
    const observer = run(['elect', '-l', 'ctl-el']);
    const first = run(['elect', 'ctl-el', 'alpha']);
    await until(() => first.stdout !== '', 5000, () => 'the first leader');
    expect(first.stdout).toMatch(/^ctl-el\/[0-9a-f]+\nalpha\n$/);
    const second = run(['elect', 'ctl-el', 'beta']);
    await until(async () => (await fake.member.range({ key: b('ctl-el/'), rangeEnd: b('ctl-el0') })).kvs.length === 2, 5000, () => 'the second candidate key');
    expect(second.stdout).toBe('');
    await interrupt(first);
    await until(() => second.stdout !== '', 5000, () => 'the second leader');
    expect(second.stdout).toMatch(/^ctl-el\/[0-9a-f]+\nbeta\n$/);
    await until(() => observer.stdout.split('\n').length >= 5, 5000, () => `the observer, got ${JSON.stringify(observer.stdout)}`);
    expect(observer.stdout).toBe(`${first.stdout}${second.stdout}`);
    await interrupt(second);
    await interrupt(observer);
  });
});
