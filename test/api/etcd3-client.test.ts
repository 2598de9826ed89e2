/**
 * The API layer driven by an unchanged etcd client: the `etcd3` npm package (grpc-js underneath)
 * against startApiServer over a FakeMember. Errors must arrive as the client's own error classes,
 * which it picks from the gRPC code and etcd's message text.
 */
import {
  Etcd3,
  EtcdLeaseInvalidError,
  GRPCInvalidArgumentError,
  GRPCNotImplementedError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
} from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_ID, MEMBER_ID } from './fake-member.js';
import { startFake, type FakeServer } from './helpers.js';

/** The rejection of a promise (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('api: the etcd3 npm client', () => {
  let fake: FakeServer;
  let client: Etcd3;

  beforeAll(async () => {
    fake = await startFake({ leases: [0x7777n], maxRequestBytes: 16 * 1024, maxTxnOps: 8 });
    client = new Etcd3({ hosts: fake.endpoint });
  });
  afterAll(async () => {
    client.close();
    await fake.close();
  });

  it('puts and gets, with etcd headers', async () => {
    const put = await client.put('greeting').value('hello');
    expect(put.header.cluster_id).toBe(CLUSTER_ID.toString());
    expect(put.header.member_id).toBe(MEMBER_ID.toString());
    expect(put.header.raft_term).toBe('2');
    expect(Number(put.header.revision)).toBe(fake.member.store.currentRev);
    expect(await client.get('greeting').string()).toBe('hello');
    expect(await client.get('no-such-key').string()).toBeNull();

    const res = await client.get('greeting').exec();
    const kv = res.kvs[0];
    expect(kv?.key.toString()).toBe('greeting');
    expect(kv?.create_revision).toBe(put.header.revision);
    expect(kv?.mod_revision).toBe(put.header.revision);
    expect(kv?.version).toBe('1');
    expect(kv?.lease).toBe('0');
    expect(res.count).toBe('1');
    expect(res.more).toBe(false);
  });

  it('reads ranges: prefix, limit, sort, keys only, count only', async () => {
    for (const [k, v] of [
      ['p/b', '2'],
      ['p/a', '3'],
      ['p/c', '1'],
      ['q/x', '0'],
    ]) {
      await client.put(k as string).value(v as string);
    }
    expect(await client.getAll().prefix('p/').strings()).toEqual({ 'p/a': '3', 'p/b': '2', 'p/c': '1' });
    expect(await client.getAll().prefix('p/').keys()).toEqual(['p/a', 'p/b', 'p/c']);
    expect(await client.getAll().prefix('p/').limit(2).keys()).toEqual(['p/a', 'p/b']);
    const limited = await client.getAll().prefix('p/').limit(2).exec();
    expect(limited.more).toBe(true);
    expect(limited.count).toBe('3');
    expect(await client.getAll().prefix('p/').sort('Key', 'Descend').keys()).toEqual(['p/c', 'p/b', 'p/a']);
    expect(await client.getAll().prefix('p/').sort('Value', 'Ascend').keys()).toEqual(['p/c', 'p/b', 'p/a']);
    expect(await client.getAll().prefix('p/').sort('Create', 'Descend').keys()).toEqual(['p/c', 'p/a', 'p/b']);
    expect(await client.getAll().prefix('p/').count()).toBe(3);
    const keysOnly = await client.getAll().prefix('p/').exec();
    expect(keysOnly.kvs.length).toBe(3);
    expect(await client.getAll().all().count()).toBeGreaterThanOrEqual(4);
  });

  it('reads at an older revision', async () => {
    const first = await client.put('rev-key').value('one');
    await client.put('rev-key').value('two');
    expect(await client.get('rev-key').string()).toBe('two');
    expect(await client.get('rev-key').revision(first.header.revision).string()).toBe('one');
  });

  it('deletes single keys and prefixes, with the previous values', async () => {
    await client.put('d/1').value('a');
    await client.put('d/2').value('b');
    await client.put('d/3').value('c');
    const one = await client.delete().key('d/1').exec();
    expect(one.deleted).toBe('1');
    const prev = await client.delete().prefix('d/').getPrevious();
    expect(prev.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`)).toEqual(['d/2=b', 'd/3=c']);
    expect(await client.getAll().prefix('d/').count()).toBe(0);
    const nothing = await client.delete().key('d/none').exec();
    expect(nothing.deleted).toBe('0');
  });

  it('runs txns: if/then/else', async () => {
    await client.put('t/flag').value('on');
    const yes = await client
      .if('t/flag', 'Value', '==', 'on')
      .then(client.put('t/then').value('1'), client.get('t/flag'))
      .else(client.put('t/else').value('1'))
      .commit();
    expect(yes.succeeded).toBe(true);
    expect(yes.responses.length).toBe(2);
    expect(yes.responses[1]?.response_range.kvs[0]?.value.toString()).toBe('on');
    const no = await client.if('t/flag', 'Value', '==', 'off').then(client.put('t/then').value('2')).else(client.put('t/else').value('2')).commit();
    expect(no.succeeded).toBe(false);
    expect(await client.get('t/then').string()).toBe('1');
    expect(await client.get('t/else').string()).toBe('2');
    const byVersion = await client.if('t/flag', 'Version', '>', 0).then(client.delete().key('t/flag')).commit();
    expect(byVersion.succeeded).toBe(true);
    expect(byVersion.responses[0]?.response_delete_range.deleted).toBe('1');
  });

  it('runs a nested txn through the raw KV client', async () => {
    const res = await client.kv.txn({
      success: [
        {
          request_txn: {
            compare: [{ key: Buffer.from('nested/missing'), target: 'Version', result: 'Equal', version: 0 }],
            success: [{ request_put: { key: Buffer.from('nested/k'), value: Buffer.from('v') } }],
          },
        },
      ],
    });
    expect(res.succeeded).toBe(true);
    const inner = res.responses[0]?.response_txn;
    expect(inner?.succeeded).toBe(true);
    expect(inner?.responses[0]?.response_put.header.revision).toBe(res.header.revision);
    expect(await client.get('nested/k').string()).toBe('v');
  });

  it('compacts, then reports compacted and future revisions with etcd texts', async () => {
    const old = await client.put('c/key').value('1');
    await client.put('c/key').value('2');
    const now = fake.member.store.currentRev;
    await client.kv.compact({ revision: now, physical: true });
    const compacted = await rejection(client.get('c/key').revision(old.header.revision).string());
    expect(compacted).toBeInstanceOf(GRPCOutOfRangeError);
    expect(compacted.message).toContain('etcdserver: mvcc: required revision has been compacted');
    const again = await rejection(client.kv.compact({ revision: now - 1 }));
    expect(again).toBeInstanceOf(GRPCOutOfRangeError);
    expect(again.message).toContain('etcdserver: mvcc: required revision has been compacted');
    const future = await rejection(client.get('c/key').revision(now + 1000).string());
    expect(future).toBeInstanceOf(GRPCOutOfRangeError);
    expect(future.message).toContain('etcdserver: mvcc: required revision is a future revision');
  });

  it('maps request errors to the client error classes', async () => {
    const emptyKey = await rejection(client.put('').value('x').exec());
    expect(emptyKey).toBeInstanceOf(GRPCInvalidArgumentError);
    expect(emptyKey.message).toContain('etcdserver: key is not provided');

    const lease = await rejection(client.put('leased').value('x').lease('12345').exec());
    expect(lease).toBeInstanceOf(EtcdLeaseInvalidError);
    await client.put('leased').value('x').lease(String(0x7777)).exec();
    const leasedKv = (await client.get('leased').exec()).kvs[0];
    expect(leasedKv?.lease).toBe(String(0x7777));

    const tooLarge = await rejection(client.put('big').value(Buffer.alloc(20 * 1024)).exec());
    expect(tooLarge).toBeInstanceOf(GRPCInvalidArgumentError);
    expect(tooLarge.message).toContain('etcdserver: request is too large');
    // Beyond max-request-bytes + 512 KiB gRPC itself refuses the message. etcd3 counts
    // RESOURCE_EXHAUSTED against the host (its circuit breaker opens), so use a client of its own.
    const other = new Etcd3({ hosts: fake.endpoint });
    try {
      const huge = await rejection(other.put('huge').value(Buffer.alloc(600 * 1024)).exec());
      expect(huge).toBeInstanceOf(GRPCResourceExhastedError);
    } finally {
      other.close();
    }

    const ops = Array.from({ length: 9 }, (_, i) => ({ request_put: { key: Buffer.from(`ops/${i}`), value: Buffer.from('v') } }));
    const tooMany = await rejection(client.kv.txn({ success: ops }));
    expect(tooMany).toBeInstanceOf(GRPCInvalidArgumentError);
    expect(tooMany.message).toContain('etcdserver: too many operations in txn request');

    const dup = await rejection(
      client.kv.txn({
        success: [
          { request_put: { key: Buffer.from('dup'), value: Buffer.from('1') } },
          { request_put: { key: Buffer.from('dup'), value: Buffer.from('2') } },
        ],
      }),
    );
    expect(dup).toBeInstanceOf(GRPCInvalidArgumentError);
    expect(dup.message).toContain('etcdserver: duplicate key given in txn request');
  });

  it('answers Maintenance and Cluster calls', async () => {
    const status = await client.maintenance.status();
    expect(status.leader).toBe(MEMBER_ID.toString());
    expect(status.version).toBe('3.4.0');
    expect(status.dbSize).toBe('20480');
    const members = await client.cluster.memberList({});
    expect(members.members.map((m) => m.ID)).toEqual([MEMBER_ID.toString()]);
    expect(members.header.revision).toBe('0');
    // (etcd3's hashKV() calls a method its own client lacks; etcdctl covers HashKV.)
    const hash = await client.maintenance.hash();
    expect(hash.hash).toBe((await fake.member.store.hashKV(0)).hash);
  });

  it('answers the services that are not there yet with UNIMPLEMENTED', async () => {
    const auth = await rejection(client.auth.userList());
    expect(auth).toBeInstanceOf(GRPCNotImplementedError);
    expect(auth.message).toContain('method UserList not implemented');
  });
});
