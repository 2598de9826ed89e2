/**
 * "Same as real etcd": one fixed script of etcdctl commands runs against a real etcd 3.4 started
 * here (temporary data dir, free loopback ports, killed by PID afterwards) and against our API
 * layer over a FakeMember. After normalizing what must differ (cluster and member ids, raft
 * term, the endpoint, log timestamps), every command's stdout, stderr and exit code must be the
 * same, error lines included. Revisions are not normalized: both stores start at revision 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD, ETCDCTL, etcdctl, hasEtcd, hasEtcdctl, startFake, startRealEtcd, type FakeServer, type RealEtcd } from './helpers.js';

interface Step {
  readonly args: readonly string[];
  readonly stdin?: string;
}

const TXN_SUCCESS = 'value("foo") = "bar2"\n\nput t1 yes\nget foo\ndel fop\n\nput t1 no\n\n';
const TXN_FAILURE = 'mod("foo") > "1000"\nversion("zeta") = "1"\n\nput t2 yes\n\nget foo2\nput t2 no\n\n';

const SCRIPT: readonly Step[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['put', 'foo2', 'baz'] },
  { args: ['put', 'fop', 'qux'] },
  { args: ['put', 'zeta', '1'] },
  { args: ['put', 'foo', 'bar2'] },
  { args: ['put', 'foo', 'bar2', '--prev-kv'] },
  { args: ['put', 'foo', '--ignore-value'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['get', 'nothing', '-w', 'json'] },
  { args: ['get', 'foo', '--prefix'] },
  { args: ['get', 'foo', '--prefix', '--keys-only'] },
  { args: ['get', 'f', '--prefix', '--limit=2', '-w', 'json'] },
  { args: ['get', 'a', '--from-key', '--sort-by=MODIFY', '--order=DESCEND'] },
  { args: ['get', 'f', '--prefix', '--sort-by=VALUE', '--order=ASCEND', '-w', 'json'] },
  { args: ['get', 'f', '--prefix', '--sort-by=CREATE', '--order=DESCEND', '--print-value-only'] },
  { args: ['get', 'f', '--prefix', '--sort-by=VERSION', '--order=DESCEND', '--limit=1', '-w', 'json'] },
  { args: ['get', 'foo', 'fop'] },
  { args: ['get', 'foo', '--rev=2'] },
  { args: ['get', 'foo', '--rev=2', '-w', 'json'] },
  { args: ['get', 'zeta', '--consistency=s', '-w', 'fields'] },
  { args: ['txn'], stdin: TXN_SUCCESS },
  { args: ['txn', '-w', 'json'], stdin: TXN_FAILURE },
  { args: ['get', 't', '--prefix'] },
  { args: ['del', 'nothing'] },
  { args: ['del', 'foo2', '--prev-kv', '-w', 'json'] },
  { args: ['del', 't', '--prefix'] },
  { args: ['compaction', '6'] },
  { args: ['get', 'foo', '--rev=2'] },
  { args: ['get', 'foo', '--rev=6'] },
  { args: ['get', 'foo', '--rev=1000'] },
  { args: ['compaction', '5'] },
  { args: ['compaction', '1000'] },
  { args: ['get', 'a', '--from-key', '-w', 'json'] },
  { args: ['put', '', 'empty'] },
  { args: ['endpoint', 'health', '--cluster=false', '-w', 'json'] },
];

/** What legitimately differs between two clusters and two runs. */
function normalize(text: string, endpoint: string): string {
  return text
    .replaceAll(endpoint, 'ENDPOINT')
    .replaceAll(endpoint.replace('http://', ''), 'HOSTPORT')
    .replace(/"(cluster_id|member_id|ClusterID|MemberID)"( ?: ?)\d+/g, '"$1"$2ID')
    .replace(/"(raft_term|RaftTerm)"( ?: ?)\d+/g, '"$1"$2TERM')
    .replace(/"ts":"[^"]*"/g, '"ts":"TS"')
    .replace(/"took":"[^"]*"/g, '"took":"TOOK"')
    .replace(/endpoint:\/\/client-[0-9a-f-]+\//g, 'endpoint://client-ID/');
}

const ready = hasEtcd && hasEtcdctl;
const title = ready ? 'api: the same as real etcd' : `api: the same as real etcd (SKIPPED: needs ${ETCD} and ${ETCDCTL})`;

describe.skipIf(!ready)(title, () => {
  let etcd: RealEtcd;
  let fake: FakeServer;

  beforeAll(async () => {
    [etcd, fake] = await Promise.all([startRealEtcd(), startFake()]);
  });
  afterAll(async () => {
    await Promise.all([etcd?.stop(), fake?.close()]);
  });

  it('prints the same for a script of etcdctl commands', async () => {
    const runScript = async (endpoint: string): Promise<string[]> => {
      const outputs: string[] = [];
      for (const step of SCRIPT) {
        const r = await etcdctl(endpoint, step.args, step.stdin);
        outputs.push(normalize(`$ etcdctl ${step.args.join(' ')}\n[exit ${r.code}]\n${r.stdout}${r.stderr}`, endpoint));
      }
      return outputs;
    };
    const [theirs, ours] = await Promise.all([runScript(etcd.endpoint), runScript(fake.endpoint)]);
    // One command at a time, so a difference names its command.
    // SHOW_ETCDCTL_OUTPUT=1 prints our side of the comparison, to see what is being compared.
    if (process.env['SHOW_ETCDCTL_OUTPUT'] !== undefined) console.log(ours.join('\n'));
    for (const [i, expected] of theirs.entries()) expect(ours[i]).toBe(expected);
  });
});
