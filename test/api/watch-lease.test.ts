/**
 * The Watch and Lease services over gRPC: through the etcd3 npm client (what applications use)
 * and through a plain grpc-js client for what etcd3 does not expose (progress requests,
 * compaction cancels, malformed requests, keep-alive stream errors).
 */
import * as grpc from '@grpc/grpc-js';
import { Etcd3, EtcdLeaseInvalidError, type IKeyValue, type Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcCode } from '../../src/errors.js';
import { MIN_LEASE_TTL_SECONDS } from './fake-member.js';
import { rawClient, StreamRecorder, startFake, until, type FakeServer } from './helpers.js';

type Raw = ReturnType<typeof rawClient>;

/** Collects the events a watcher delivers, as `TYPE key=value`. */
function record(watcher: Watcher): string[] {
  const seen: string[] = [];
  watcher.on('put', (kv: IKeyValue, prev?: IKeyValue | null) =>
    seen.push(`PUT ${kv.key.toString()}=${kv.value.toString()}${prev === undefined || prev === null ? '' : ` prev=${prev.value.toString()}`}`),
  );
  watcher.on('delete', (kv: IKeyValue, prev?: IKeyValue | null) =>
    seen.push(`DELETE ${kv.key.toString()}${prev === undefined || prev === null ? '' : ` prev=${prev.value.toString()}`}`),
  );
  return seen;
}

describe('api: Watch and Lease through the etcd3 client', () => {
  let fake: FakeServer;
  let client: Etcd3;

  beforeAll(async () => {
    fake = await startFake();
    client = new Etcd3({ hosts: fake.endpoint });
  });
  afterAll(async () => {
    client.close();
    await fake.close();
  });

  it('watches a key from now on, then a prefix with history replay and previous values', async () => {
    const live = await client.watch().key('w/a').create();
    const seen = record(live);
    await client.put('w/a').value('1');
    await client.put('w/b').value('x');
    await client.delete().key('w/a');
    await until(() => seen.length >= 2, 5000, () => `events, got ${JSON.stringify(seen)}`);
    expect(seen).toEqual(['PUT w/a=1', 'DELETE w/a']);
    await live.cancel();

    const start = Number((await client.put('w/c').value('1')).header.revision);
    await client.put('w/c').value('2');
    await client.delete().key('w/c');
    const replay = await client.watch().prefix('w/').startRevision(String(start)).withPreviousKV().create();
    const replayed = record(replay);
    await until(() => replayed.length >= 3, 5000, () => `replayed events, got ${JSON.stringify(replayed)}`);
    expect(replayed).toEqual(['PUT w/c=1', 'PUT w/c=2 prev=1', 'DELETE w/c prev=2']);
    await client.put('w/d').value('new');
    await until(() => replayed.length >= 4, 5000, () => 'the live event after the replay');
    expect(replayed[3]).toBe('PUT w/d=new');
    await replay.cancel();
  });

  it('filters puts or deletes', async () => {
    // etcd3's only('delete') sends the NOPUT filter, only('put') NODELETE.
    const noPut = await client.watch().key('f/k').only('delete').create();
    const noDelete = await client.watch().key('f/k').only('put').create();
    const deletes = record(noPut);
    const puts = record(noDelete);
    await client.put('f/k').value('v');
    await client.delete().key('f/k');
    await client.put('f/k').value('w');
    await until(() => deletes.length >= 1 && puts.length >= 2, 5000, () => 'filtered events');
    expect(deletes).toEqual(['DELETE f/k']);
    expect(puts).toEqual(['PUT f/k=v', 'PUT f/k=w']);
    await noPut.cancel();
    await noDelete.cancel();
  });

  it('grants, lists, renews, reads the TTL of and revokes leases, and revoking deletes their keys', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    await client.put('leased/1').value('a').lease(id);
    await client.put('leased/2').value('b').lease(id);
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
    expect(ttl.ID).toBe(id);
    expect(ttl.grantedTTL).toBe('30');
    expect(Number(ttl.TTL)).toBeGreaterThanOrEqual(29);
    expect(ttl.keys.map((k) => k.toString()).sort()).toEqual(['leased/1', 'leased/2']);
    expect((await client.leaseClient.leaseLeases()).leases.map((l) => l.ID)).toContain(id);
    const renewed = await lease.keepaliveOnce();
    expect(renewed.ID).toBe(id);
    expect(renewed.TTL).toBe('30');

    const before = fake.member.store.currentRev;
    await lease.revoke();
    expect(fake.member.store.currentRev).toBe(before + 1);
    expect(await client.getAll().prefix('leased/').keys()).toEqual([]);
    const gone = await client.leaseClient.leaseTimeToLive({ ID: id });
    expect(gone.TTL).toBe('-1');
    expect((await client.leaseClient.leaseLeases()).leases.map((l) => l.ID)).not.toContain(id);
    await expect(client.leaseClient.leaseRevoke({ ID: id })).rejects.toBeInstanceOf(EtcdLeaseInvalidError);
  });

  it('grants a chosen id, raises a small TTL to the minimum, and refuses a taken id', async () => {
    const granted = await client.leaseClient.leaseGrant({ TTL: 1, ID: 4242 });
    expect(granted.ID).toBe('4242');
    expect(granted.TTL).toBe(String(MIN_LEASE_TTL_SECONDS));
    await expect(client.leaseClient.leaseGrant({ TTL: 10, ID: 4242 })).rejects.toThrow('etcdserver: lease already exists');
    await expect(client.leaseClient.leaseGrant({ TTL: 9_000_000_001 })).rejects.toThrow('etcdserver: too large lease TTL');
  });

  it('keeps a lease alive through the keep-alive stream', async () => {
    const lease = client.lease(3);
    await lease.grant();
    const before = fake.member.keepAlives;
    // etcd3 renews every TTL/3 seconds.
    await until(() => fake.member.keepAlives >= before + 2, 5000, () => 'two keep-alives');
    expect(lease.revoked()).toBe(false);
    await lease.revoke();
  });
});

describe('api: Watch and LeaseKeepAlive streams on the wire', () => {
  let fake: FakeServer;
  let watchClient: Raw;
  let leaseClient: Raw;
  const b = (s: string): Buffer => Buffer.from(s);

  const openWatch = (): { stream: grpc.ClientDuplexStream<object, Record<string, unknown>>; rec: StreamRecorder } => {
    const stream = (watchClient['Watch'] as () => grpc.ClientDuplexStream<object, Record<string, unknown>>).call(watchClient);
    return { stream, rec: new StreamRecorder(stream) };
  };

  beforeAll(async () => {
    fake = await startFake({ leases: [0x7777n] });
    watchClient = rawClient(fake.endpoint, 'etcdserverpb.Watch');
    leaseClient = rawClient(fake.endpoint, 'etcdserverpb.Lease');
  });
  afterAll(async () => {
    watchClient.close();
    leaseClient.close();
    await fake.close();
  });

  it('answers create, progress and cancel requests in order, with etcd ids and headers', async () => {
    const { stream, rec } = openWatch();
    await fake.member.put({ key: b('p/1'), value: b('v') });
    const rev = fake.member.store.currentRev;
    stream.write({ create_request: { key: b('p/'), range_end: b('p0'), watch_id: 5 } });
    stream.write({ create_request: { key: b('q') } });
    stream.write({ progress_request: {} });
    await rec.waitFor(3);
    expect(rec.responses.map((r) => [r['watch_id'], r['created'], (r['header'] as { revision: string }).revision])).toEqual([
      ['5', true, String(rev)],
      ['0', true, String(rev)],
      ['-1', false, String(rev)],
    ]);
    await fake.member.put({ key: b('p/2'), value: b('w') });
    await rec.waitFor(4);
    const events = rec.responses[3]?.['events'] as { type: number; kv: { key: Buffer; value: Buffer; mod_revision: string } }[];
    expect(rec.responses[3]?.['watch_id']).toBe('5');
    expect(events.map((e) => [e.type, e.kv.key.toString(), e.kv.value.toString(), e.kv.mod_revision])).toEqual([[0, 'p/2', 'w', String(rev + 1)]]);
    stream.write({ cancel_request: { watch_id: 5 } });
    await rec.waitFor(5);
    expect(rec.responses[4]).toMatchObject({ watch_id: '5', canceled: true });
    // A canceled watcher is quiet; a duplicate id is refused with etcd's reason.
    stream.write({ create_request: { key: b('q'), watch_id: 0 } });
    stream.write({ create_request: { key: b('r'), watch_id: 7 } });
    stream.write({ create_request: { key: b('r'), watch_id: 7 } });
    await fake.member.put({ key: b('p/3'), value: b('x') });
    await rec.waitFor(8);
    expect(rec.responses.slice(5).map((r) => [r['watch_id'], r['created'], r['canceled'], r['cancel_reason']])).toEqual([
      ['1', true, false, ''],
      ['7', true, false, ''],
      ['-1', true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
    ]);
    stream.cancel();
  });

  it('cancels a watch whose start revision was compacted, with compact_revision', async () => {
    await fake.member.put({ key: b('c/1'), value: b('1') });
    await fake.member.put({ key: b('c/1'), value: b('2') });
    const compactRev = fake.member.store.currentRev;
    await fake.member.compact(compactRev, true);
    const { stream, rec } = openWatch();
    stream.write({ create_request: { key: b('c/1'), start_revision: 2 } });
    await rec.waitFor(2);
    expect(rec.responses[0]).toMatchObject({ created: true, canceled: false });
    expect(rec.responses[1]).toMatchObject({ watch_id: '0', canceled: true, compact_revision: String(compactRev) });
    stream.cancel();
  });

  it('keeps watching after the client half-closes, as etcd does', async () => {
    const { stream, rec } = openWatch();
    stream.write({ create_request: { key: b('half') } });
    stream.end();
    await rec.waitFor(1);
    await fake.member.put({ key: b('half'), value: b('still') });
    await rec.waitFor(2);
    expect((rec.responses[1]?.['events'] as { kv: { value: Buffer } }[])[0]?.kv.value.toString()).toBe('still');
    expect(rec.ended).toBe(false);
    stream.cancel();
  });

  it('survives malformed requests: empty ones are ignored, bad ranges refused, huge numbers clamped', async () => {
    const { stream, rec } = openWatch();
    stream.write({});
    stream.write({ create_request: { key: b('z'), range_end: b('a') } });
    stream.write({ create_request: { key: b('m'), start_revision: '-9223372036854775808', watch_id: '9223372036854775807', filters: [7] } });
    stream.write({ cancel_request: { watch_id: '-1' } });
    await rec.waitFor(2);
    expect(rec.responses[0]).toMatchObject({ watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: watcher range is empty' });
    expect(rec.responses[1]).toMatchObject({ created: true, canceled: false });
    // A negative start revision is refused as compacted, as etcd does.
    await rec.waitFor(3);
    expect(rec.responses[2]).toMatchObject({ canceled: true, compact_revision: expect.stringMatching(/^-?\d+$/) });
    await fake.member.put({ key: b('m'), value: b('1') });
    expect(rec.error).toBeUndefined();
    stream.cancel();
    // The member still serves.
    expect((await fake.member.range({ key: b('m') })).kvs).toHaveLength(1);
    expect(fake.log.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('ends a call whose request bytes are not a WatchRequest, and goes on serving', async () => {
    const raw = new grpc.Client(fake.endpoint.replace('http://', ''), grpc.credentials.createInsecure());
    try {
      const call = raw.makeBidiStreamRequest<Buffer, Buffer>('/etcdserverpb.Watch/Watch', (m) => m, (m) => m);
      const rec = new StreamRecorder(call);
      // Field 1 (create_request) as a length-delimited field whose length runs past the end.
      call.write(Buffer.from([0x0a, 0x7f, 0x01]));
      await rec.waitEnd();
      expect(rec.error?.code).toBe(GrpcCode.INTERNAL);
    } finally {
      raw.close();
    }
    expect((await fake.member.range({ key: b('m') })).kvs).toHaveLength(1);
  });

  it('ends a stream whose client went away, so its watchers stop', async () => {
    const { stream, rec } = openWatch();
    stream.write({ create_request: { key: b('gone') } });
    await rec.waitFor(1);
    expect(fake.member.hub.stats().synced).toBeGreaterThan(0);
    const before = fake.member.hub.stats().synced;
    stream.cancel();
    await until(() => fake.member.hub.stats().synced === before - 1, 5000, () => 'the watcher to be canceled');
  });

  it('answers keep-alives in request order, TTL 0 for a lease that is gone', async () => {
    const stream = (leaseClient['LeaseKeepAlive'] as () => grpc.ClientDuplexStream<object, Record<string, unknown>>).call(leaseClient);
    const rec = new StreamRecorder(stream);
    for (const ID of [0x7777, 1, 0x7777, 2]) stream.write({ ID });
    stream.end();
    await rec.waitEnd();
    expect(rec.error).toBeUndefined();
    expect(rec.responses.map((r) => [r['ID'], r['TTL']])).toEqual([
      [String(0x7777), '3600'],
      ['1', '0'],
      [String(0x7777), '3600'],
      ['2', '0'],
    ]);
  });

  it('ends the keep-alive stream with the error status, e.g. no leader', async () => {
    fake.member.leader = 0n;
    try {
      const stream = (leaseClient['LeaseKeepAlive'] as () => grpc.ClientDuplexStream<object, Record<string, unknown>>).call(leaseClient);
      const rec = new StreamRecorder(stream);
      stream.write({ ID: 0x7777 });
      await rec.waitEnd();
      expect(rec.responses).toEqual([]);
      expect(rec.error?.code).toBe(GrpcCode.UNAVAILABLE);
      expect(rec.error?.details).toBe('etcdserver: no leader');
    } finally {
      fake.member.leader = BigInt(fake.member.members[0]?.id ?? 0n);
    }
  });
});
