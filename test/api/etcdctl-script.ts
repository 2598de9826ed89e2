/**
 * The etcdctl script compared against a real etcd, and what legitimately differs between two
 * clusters. Shared by the API comparison (one in-process member) and the cluster comparison
 * (three tsetcd processes against three etcd processes).
 */
export interface Step {
  readonly args: readonly string[];
  readonly stdin?: string;
}

const TXN_SUCCESS = 'value("foo") = "bar2"\n\nput t1 yes\nget foo\ndel fop\n\nput t1 no\n\n';
const TXN_FAILURE = 'mod("foo") > "1000"\nversion("zeta") = "1"\n\nput t2 yes\n\nget foo2\nput t2 no\n\n';

export const SCRIPT: readonly Step[] = [
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
export function normalize(text: string, endpoints: string | readonly string[]): string {
  let out = text;
  for (const [i, endpoint] of (typeof endpoints === 'string' ? [endpoints] : endpoints).entries()) {
    const tag = i === 0 ? '' : String(i);
    out = out.replaceAll(endpoint, `ENDPOINT${tag}`).replaceAll(endpoint.replace('http://', ''), `HOSTPORT${tag}`);
  }
  return out
    .replace(/"(cluster_id|member_id|ClusterID|MemberID)"( ?: ?)\d+/g, '"$1"$2ID')
    .replace(/"(raft_term|RaftTerm)"( ?: ?)\d+/g, '"$1"$2TERM')
    .replace(/"ts":"[^"]*"/g, '"ts":"TS"')
    .replace(/"took":"[^"]*"/g, '"took":"TOOK"')
    .replace(/endpoint:\/\/client-[0-9a-f-]+\//g, 'endpoint://client-ID/');
}
