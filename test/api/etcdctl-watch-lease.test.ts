/**
 * etcdctl 3.4's watch and lease commands against the API layer: the lines they print are the
 * ones they print against a real etcd 3.4 (checked by hand with the same commands).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCDCTL, etcdctl, hasEtcdctl, run, startFake, type CommandResult, type FakeServer } from './helpers.js';

const title = hasEtcdctl ? 'api: etcdctl watch and lease' : `api: etcdctl watch and lease (SKIPPED: ${ETCDCTL} is missing)`;

describe.skipIf(!hasEtcdctl)(title, () => {
  let fake: FakeServer;
  const ctl = (args: string[], stdin?: string): Promise<CommandResult> => etcdctl(fake.endpoint, args, stdin);
  const ok = async (args: string[]): Promise<string> => {
    const r = await ctl(args);
    expect(r.stderr, `etcdctl ${args.join(' ')}`).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  /** A watch runs until killed: what it printed in `ms`. */
  const watchFor = (args: string[], ms: number): Promise<CommandResult> =>
    run(ETCDCTL, [`--endpoints=${fake.endpoint}`, 'watch', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: ms });

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('grants, lists, renews, inspects and revokes a lease', async () => {
    const granted = await ok(['lease', 'grant', '30']);
    expect(granted).toMatch(/^lease [0-9a-f]+ granted with TTL\(30s\)\n$/);
    const id = (/^lease ([0-9a-f]+)/.exec(granted) as RegExpExecArray)[1] as string;
    expect(await ok(['put', '--lease', id, 'lk', 'v'])).toBe('OK\n');
    expect(await ok(['lease', 'list'])).toBe(`found 1 leases\n${id}\n`);
    expect(await ok(['lease', 'timetolive', id, '--keys'])).toMatch(new RegExp(`^lease ${id} granted with TTL\\(30s\\), remaining\\((29|30)s\\), attached keys\\(\\[lk\\]\\)\n$`));
    expect(await ok(['lease', 'keep-alive', '--once', id])).toBe(`lease ${id} keepalived with TTL(30)\n`);
    expect(await ok(['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
    expect(await ok(['get', 'lk'])).toBe('');
    expect(await ok(['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
    const gone = await ctl(['lease', 'keep-alive', '--once', id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('Error: etcdserver: requested lease not found\n');
  });

  it('watches history with previous values, then live events', async () => {
    const start = fake.member.store.currentRev + 1;
    await ok(['put', 'wk', 'one']);
    await ok(['put', 'wk', 'two']);
    await ok(['del', 'wk']);
    const watching = watchFor(['wk', `--rev=${start}`, '--prev-kv'], 1500);
    await new Promise((r) => setTimeout(r, 500));
    await ok(['put', 'wk', 'three']);
    const r = await watching;
    expect(r.stdout).toBe('PUT\nwk\none\nPUT\nwk\none\nwk\ntwo\nDELETE\nwk\ntwo\nwk\n\nPUT\nwk\nthree\n');
  });

  it('reports a watch from a compacted revision as etcdctl does against etcd', async () => {
    await ok(['put', 'ck', '1']);
    const rev = fake.member.store.currentRev;
    await ok(['compaction', String(rev)]);
    const r = await watchFor(['ck', '--rev=1'], 3000);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n');
    expect(r.code).toBe(5);
  });
});
