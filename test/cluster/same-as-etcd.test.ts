/**
 * A real 3-member tsetcd cluster against a real 3-member etcd 3.4 cluster: the same etcdctl
 * script, each command sent to the member at the same position on both sides (so writes are
 * forwarded from followers and linearizable reads go through followers' ReadIndex), must print
 * the same after normalizing ids, terms and endpoints. Then member list and endpoint status are
 * checked for the same shape.
 */
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../cluster/local-cluster.js';
import { normalize, SCRIPT } from '../api/etcdctl-script.js';
import { etcdctl, hasEtcd, hasEtcdctl } from '../api/helpers.js';
import { Clients, leaderOf, waitFor } from './helpers.js';
import { startRealEtcdCluster, type RealEtcdCluster } from '../../cluster/real-etcd.js';

const ready = hasEtcd && hasEtcdctl;
let ours: LocalCluster;
let theirs: RealEtcdCluster;
const clients = new Clients();

describe.skipIf(!ready)('a 3-member tsetcd cluster answers etcdctl as a 3-member etcd does', () => {
  beforeAll(async () => {
    ours = await LocalCluster.create({ size: 3 });
    ours.startAll();
    [theirs] = await Promise.all([startRealEtcdCluster(3), waitFor('a tsetcd leader', () => leaderOf(clients, ours.members), 30_000)]);
    // Every member has published its name (a member list shows it) before the script starts.
    await waitFor(
      'members to publish their names',
      async () => {
        const r = await etcdctl(ours.endpoints[0] as string, ['member', 'list']);
        return r.stdout.split('\n').filter((l) => l.includes(', started, ')).length === 3 ? true : undefined;
      },
      20_000,
    );
  }, 90_000);

  afterAll(async () => {
    clients.closeAll();
    await Promise.all([ours?.stopAll('SIGKILL'), theirs?.stop()]);
  });

  it('prints the same for the script, command by command, spread over the members', async () => {
    const run = async (endpoints: readonly string[]): Promise<string[]> => {
      const out: string[] = [];
      for (const [i, step] of SCRIPT.entries()) {
        const endpoint = endpoints[i % endpoints.length] as string;
        const r = await etcdctl(endpoint, step.args, step.stdin);
        out.push(normalize(`$ etcdctl ${step.args.join(' ')}\n[exit ${r.code}]\n${r.stdout}${r.stderr}`, endpoint));
      }
      return out;
    };
    const [expected, actual] = await Promise.all([run(theirs.endpoints), run(ours.endpoints)]);
    for (const [i, e] of expected.entries()) expect(actual[i]).toBe(e);
  }, 120_000);

  it('lists the same members and shows endpoint status of the same shape', async () => {
    type Status = { Endpoint: string; Status: { header: { member_id: number }; leader: number; raftIndex: number; raftTerm: number; raftAppliedIndex: number; version: string } };
    for (const [system, endpoints] of [
      ['etcd', theirs.endpoints],
      ['tsetcd', ours.endpoints],
    ] as const) {
      const list = await etcdctl(endpoints[1] as string, ['member', 'list', '-w', 'json']);
      expect(list.code, `${system}: ${list.stderr}`).toBe(0);
      const members = (JSON.parse(list.stdout) as { members: { clientURLs: string[]; isLearner?: boolean }[] }).members;
      expect(members.map((m) => m.clientURLs[0]).sort()).toEqual([...endpoints].sort());
      expect(members.every((m) => m.isLearner !== true)).toBe(true);

      const st = await etcdctl(endpoints.join(','), ['endpoint', 'status', '-w', 'json']);
      expect(st.code, `${system}: ${st.stderr}`).toBe(0);
      const statuses = JSON.parse(st.stdout) as Status[];
      expect(statuses).toHaveLength(3);
      // One leader that every member agrees on, one term, and the leader among the members.
      const leaders = new Set(statuses.map((s) => String(s.Status.leader)));
      expect(leaders.size, system).toBe(1);
      expect(statuses.map((s) => String(s.Status.header.member_id))).toContain([...leaders][0]);
      expect(new Set(statuses.map((s) => s.Status.raftTerm)).size, system).toBe(1);
      for (const s of statuses) expect(s.Status.raftAppliedIndex).toBeLessThanOrEqual(s.Status.raftIndex + 1);
    }
  }, 60_000);

  it('gives the etcd3 client the same results', async () => {
    const script = async (endpoints: readonly string[]): Promise<unknown[]> => {
      const c = new Etcd3({ hosts: [...endpoints], faultHandling: { global: noop, host: () => noop } });
      const out: unknown[] = [];
      const attempt = async (label: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          out.push([label, await fn()]);
        } catch (e) {
          out.push([label, 'error', (e as Error).constructor.name, (e as Error).message]);
        }
      };
      try {
        for (const [k, v] of [['b/1', 'x'], ['b/2', 'yy'], ['b/3', 'z'], ['b/2', 'y2'], ['c', '1']]) await attempt(`put ${k}`, () => c.put(k as string).value(v as string).exec().then((r) => r.header.revision));
        await attempt('get prefix', () => c.getAll().prefix('b/').strings());
        await attempt('get prefix limit 2 sort value desc', () => c.getAll().prefix('b/').limit(2).sort('Value', 'Descend').keys());
        await attempt('keys only', () => c.getAll().prefix('b/').keys());
        await attempt('count', () => c.getAll().prefix('b/').count());
        await attempt('get at rev 3', () => c.get('b/2').revision(3).string());
        await attempt('get at rev 4', () => c.get('b/2').revision(4).exec().then((r) => r.kvs.map((kv) => [kv.key.toString(), kv.create_revision, kv.mod_revision, kv.version])));
        await attempt('txn then', () => c.if('c', 'Value', '==', '1').then(c.put('d').value('then')).else(c.put('d').value('else')).commit().then((r) => r.succeeded));
        await attempt('txn else', () => c.if('c', 'Version', '>', 5).then(c.put('e').value('then')).else(c.put('e').value('else')).commit().then((r) => r.succeeded));
        await attempt('get d e', () => Promise.all([c.get('d').string(), c.get('e').string()]));
        await attempt('delete prefix', () => c.delete().prefix('b/').exec().then((r) => r.deleted));
        await attempt('compact 4', async () => (await c.getAll().prefix('').exec()).header.revision);
        await attempt('do compact', () => c.kv.compact({ revision: 4, physical: true }).then(() => 'ok'));
        await attempt('read compacted', () => c.get('b/2').revision(3).string());
        await attempt('read future', () => c.get('b/2').revision(10_000).string());
      } finally {
        c.close();
      }
      return out;
    };
    const [expected, actual] = await Promise.all([script(theirs.endpoints), script(ours.endpoints)]);
    // The script exercised what it claims (against etcd), so equality below means something.
    const seen = JSON.stringify(expected, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(seen).toContain('required revision has been compacted');
    expect(seen).toContain('required revision is a future revision');
    expect(seen).toContain('"b/1":"x"');
    expect(actual).toEqual(expected);
  }, 60_000);
});
