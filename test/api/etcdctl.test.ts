/**
 * The API layer driven by the real etcdctl 3.4 (Go clientv3 over gRPC): each command's output
 * is what etcdctl prints against etcd. Skipped, saying so, when /usr/bin/etcdctl is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_ID, MEMBER_ID } from './fake-member.js';
import { ETCDCTL, etcdctl, hasEtcdctl, startFake, type CommandResult, type FakeServer } from './helpers.js';

const MEMBER_HEX = MEMBER_ID.toString(16);

const title = hasEtcdctl ? 'api: etcdctl' : `api: etcdctl (SKIPPED: ${ETCDCTL} is missing; apt-get install etcd-client)`;

describe.skipIf(!hasEtcdctl)(title, () => {
  let fake: FakeServer;
  const ctl = (args: string[], stdin?: string): Promise<CommandResult> => etcdctl(fake.endpoint, args, stdin);
  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const r = await ctl(args, stdin);
    expect(r.stderr, `etcdctl ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    fake = await startFake({ clientURL: 'http://127.0.0.1:2379' });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('puts and gets', async () => {
    expect(await ok(['put', 'foo', 'bar'])).toBe('OK\n');
    expect(await ok(['put', 'foo2', 'baz'])).toBe('OK\n');
    expect(await ok(['put', 'fop', 'qux'])).toBe('OK\n');
    expect(await ok(['put', 'zed', 'last'])).toBe('OK\n');
    expect(await ok(['get', 'foo'])).toBe('foo\nbar\n');
    expect(await ok(['get', 'nothing'])).toBe('');
    expect(await ok(['get', 'foo', '--prefix'])).toBe('foo\nbar\nfoo2\nbaz\n');
    expect(await ok(['get', 'f', '--prefix', '--limit=2'])).toBe('foo\nbar\nfoo2\nbaz\n');
    expect(await ok(['get', 'f', '--prefix', '--keys-only'])).toBe('foo\n\nfoo2\n\nfop\n\n');
    expect(await ok(['get', 'f', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--keys-only'])).toBe('fop\n\nfoo2\n\nfoo\n\n');
    expect(await ok(['get', 'f', '--prefix', '--sort-by=VALUE', '--print-value-only'])).toBe('bar\nbaz\nqux\n');
    expect(await ok(['get', 'a', '--from-key', '--keys-only', '--order=DESCEND', '--sort-by=KEY'])).toBe('zed\n\nfop\n\nfoo2\n\nfoo\n\n');
    expect(await ok(['get', 'foo', 'fop'])).toBe('foo\nbar\nfoo2\nbaz\n');
    expect(await ok(['get', 'zed', '--consistency=s'])).toBe('zed\nlast\n');
  });

  it('prints json with etcd ids, base64 bytes and numbers', async () => {
    const out = await ok(['get', 'foo', '-w', 'json']);
    // JSON.parse would round the 64-bit ids: check the text.
    expect(out).toBe(
      `{"header":{"cluster_id":${CLUSTER_ID},"member_id":${MEMBER_ID},"revision":5,"raft_term":2},` +
        `"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1,"value":"YmFy"}],"count":1}\n`,
    );
    const limited = await ok(['get', 'f', '--prefix', '--limit=1', '--keys-only', '-w', 'json']);
    expect(limited).toContain('"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1}],"more":true,"count":3}');
  });

  it('reads at a revision', async () => {
    expect(await ok(['put', 'foo', 'bar2'])).toBe('OK\n');
    expect(await ok(['get', 'foo', '--rev=2'])).toBe('foo\nbar\n');
    expect(await ok(['get', 'foo'])).toBe('foo\nbar2\n');
  });

  it('runs a txn from stdin', async () => {
    const txn = 'value("foo") = "bar2"\n\nput t1 yes\nget foo\n\nput t1 no\n\n';
    expect(await ok(['txn'], txn)).toBe('SUCCESS\n\nOK\n\nfoo\nbar2\n');
    const failing = 'mod("foo") > "1000"\n\nput t2 yes\n\nput t2 no\ndel t1\n\n';
    expect(await ok(['txn'], failing)).toBe('FAILURE\n\nOK\n\n1\n');
    expect(await ok(['get', 't', '--prefix'])).toBe('t2\nno\n');
  });

  it('deletes', async () => {
    expect(await ok(['del', 'fop'])).toBe('1\n');
    expect(await ok(['del', 'nothing'])).toBe('0\n');
    expect(await ok(['del', 'foo', '--prefix', '--prev-kv'])).toBe('2\nfoo\nbar2\nfoo2\nbaz\n');
  });

  it('compacts, and reports compacted and future revisions as etcd does', async () => {
    const rev = fake.member.store.currentRev;
    expect(await ok(['compaction', String(rev)])).toBe(`compacted revision ${rev}\n`);
    const compacted = await ctl(['get', 'zed', '--rev=2']);
    expect(compacted.code).toBe(1);
    expect(compacted.stdout).toBe('');
    expect(compacted.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted\n');
    const future = await ctl(['get', 'zed', `--rev=${rev + 100}`]);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain('Error: etcdserver: mvcc: required revision is a future revision\n');
    const again = await ctl(['compaction', String(rev)]);
    expect(again.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted\n');
  });

  it('lists members', async () => {
    expect(await ok(['member', 'list'])).toBe(`${MEMBER_HEX}, started, default, http://localhost:2380, http://127.0.0.1:2379, false\n`);
    expect(await ok(['member', 'list', '-w', 'json'])).toBe(
      `{"header":{"cluster_id":${CLUSTER_ID},"member_id":${MEMBER_ID},"raft_term":2},` +
        `"members":[{"ID":${MEMBER_ID},"name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://127.0.0.1:2379"]}]}\n`,
    );
  });

  it('adds, promotes and removes members', async () => {
    const added = await ok(['member', 'add', 'second', '--peer-urls=http://10.0.0.2:2380', '--learner']);
    expect(added).toMatch(/^Member [0-9a-f]+ added to cluster [0-9a-f]+\n/);
    const id = /^Member ([0-9a-f]+)/.exec(added)?.[1] as string;
    expect(await ok(['member', 'list'])).toContain(`${id}, unstarted, , http://10.0.0.2:2380, , true\n`);
    expect(await ok(['member', 'promote', id])).toMatch(/^Member [0-9a-f]+ promoted in cluster [0-9a-f]+\n$/);
    expect(await ok(['member', 'update', id, '--peer-urls=http://10.0.0.3:2380'])).toMatch(/^Member [0-9a-f]+ updated in cluster/);
    expect(await ok(['member', 'remove', id])).toMatch(/^Member [0-9a-f]+ removed from cluster [0-9a-f]+\n$/);
    const missing = await ctl(['member', 'remove', 'abcdef']);
    expect(missing.stderr).toContain('Error: etcdserver: member not found\n');
  });

  it('reports endpoint status, hashkv and health', async () => {
    const rev = fake.member.store.currentRev;
    const index = fake.member.appliedIndex;
    const status = await ok(['endpoint', 'status', '-w', 'json']);
    expect(status).toBe(
      `[{"Endpoint":"${fake.endpoint}","Status":{"header":{"cluster_id":${CLUSTER_ID},"member_id":${MEMBER_ID},"revision":${rev},"raft_term":2},` +
        `"version":"3.4.0","dbSize":20480,"leader":${MEMBER_ID},"raftIndex":${index},"raftTerm":2,"raftAppliedIndex":${index},"dbSizeInUse":16384}}]\n`,
    );
    expect(await ok(['endpoint', 'status'])).toBe(`${fake.endpoint}, ${MEMBER_HEX}, 3.4.0, 20 kB, true, false, 2, ${index}, ${index}, \n`);
    const hash = (await fake.member.store.hashKV(0)).hash;
    expect(await ok(['endpoint', 'hashkv'])).toBe(`${fake.endpoint}, ${hash}\n`);
    const health = await ctl(['endpoint', 'health']);
    expect(health.code).toBe(0);
    expect(health.stdout + health.stderr).toContain(`${fake.endpoint} is healthy`);
  });

  it('runs the maintenance commands that dial each endpoint', async () => {
    expect(await ok(['defrag'])).toBe(`Finished defragmenting etcd member[${fake.endpoint}]\n`);
    expect(await ok(['alarm', 'list'])).toBe('');
    expect(await ok(['move-leader', MEMBER_HEX])).toBe(`Leadership transferred from ${MEMBER_HEX} to ${MEMBER_HEX}\n`);
  });

  it('reports what is not implemented yet', async () => {
    const users = await ctl(['user', 'list']);
    expect(users.code).toBe(1);
    expect(users.stderr).toContain('method UserList not implemented');
  });
});
