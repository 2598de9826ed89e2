/**
 * Membership on a real cluster under a write load: add a learner, start it (it joins the running
 * cluster and catches up), promote it once it has caught up (refused before, with etcd's
 * error), remove an old member, and keep serving writes all the way through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, type LocalMember } from '../../cluster/local-cluster.js';
import { Clients, leaderOf, waitFor, WriteLoad } from './helpers.js';

let cluster: LocalCluster;
const clients = new Clients();

beforeAll(async () => {
  cluster = await LocalCluster.create({ size: 3, flags: ['--snapshot-count', '300', '--snapshot-catchup-entries', '50'] });
  cluster.startAll();
  await waitFor('a leader', () => leaderOf(clients, cluster.members), 30_000);
}, 60_000);

afterAll(async () => {
  clients.closeAll();
  await cluster?.stopAll('SIGKILL');
});

interface WireMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

describe('membership', () => {
  it('adds a learner, promotes it once caught up, removes an old member, serving writes throughout', async () => {
    let serving = cluster.members.slice(0, 3);
    const load = new WriteLoad(clients, () => serving, 'm');
    await waitFor('writes', async () => (load.acked.size >= 300 ? true : undefined), 20_000);
    const phases: { name: string; from: number; to: number }[] = [];
    const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const from = Date.now();
      const v = await fn();
      phases.push({ name, from, to: Date.now() });
      return v;
    };
    const leader = async (): Promise<LocalMember> => waitFor('a leader', () => leaderOf(clients, serving), 20_000);

    // 1. Add a learner and start it: it joins the existing cluster.
    const learner = await cluster.addMemberSpec();
    const added = await phase('member add --learner', async () =>
      (await clients.of(await leader()).cluster.memberAdd({ peerURLs: [learner.peerUrl], isLearner: true })) as unknown as { member: WireMember; members: WireMember[] },
    );
    expect(added.member.isLearner).toBe(true);
    const initialCluster = [...cluster.members.slice(0, 3), learner].map((m) => `${m.name}=${m.peerUrl}`).join(',');
    cluster.start(learner, 'existing', initialCluster);

    // 2. It catches up; promotion is refused until then, and accepted after.
    const target = load.acked.size;
    await phase('learner catches up', () =>
      waitFor(
        'the learner to catch up',
        async () => ((await clients.of(learner).getAll().prefix('m/').serializable(true).count()) >= target ? true : undefined),
        60_000,
      ),
    );
    // A learner serves serializable reads only, refusing the rest in etcd's words.
    await expect(clients.of(learner).get('m/x').exec()).rejects.toThrow('etcdserver: rpc not supported for learner');
    await expect(clients.of(learner).put('m/x').value('no')).rejects.toThrow('etcdserver: rpc not supported for learner');
    await phase('member promote', () =>
      waitFor(
        'the promotion',
        async () => {
          try {
            // Sent to a follower: it forwards the promotion to the leader, as etcd does.
            const lead = await leader();
            const follower = serving.find((m) => m !== lead) as LocalMember;
            return await clients.of(follower).cluster.memberPromote({ ID: added.member.ID });
          } catch (e) {
            // Until the learner is in sync the leader says so, in etcd's words.
            if (String(e).includes('can only promote a learner member which is in sync with leader')) return undefined;
            throw e;
          }
        },
        30_000,
      ),
    );
    const afterPromote = (await clients.of(learner).cluster.memberList({})) as unknown as { members: WireMember[] };
    expect(afterPromote.members.find((m) => m.ID === added.member.ID)?.isLearner ?? false).toBe(false);
    expect(afterPromote.members.find((m) => m.ID === added.member.ID)?.name).toBe(learner.name);

    // 3. Remove an old member (a follower: removing the leader costs an election, during which
    // no write can be served); it stops by itself, the other three keep serving.
    const original = cluster.members.slice(0, 3);
    const lead = await waitFor('a leader', () => leaderOf(clients, [...original, learner]), 20_000);
    const old = original.find((m) => m !== lead) as LocalMember;
    const oldId = afterPromote.members.find((m) => m.peerURLs.includes(old.peerUrl))?.ID;
    expect(oldId).toBeDefined();
    serving = [...original.filter((m) => m !== old), learner];
    await phase('member remove', async () => clients.of(lead).cluster.memberRemove({ ID: oldId as string }));
    await waitFor('the removed member to exit', async () => (old.process?.exitCode !== null || old.process?.signalCode !== null ? true : undefined), 15_000);
    const finalList = (await clients.of(learner).cluster.memberList({})) as unknown as { members: WireMember[] };
    expect(finalList.members.map((m) => m.ID).sort()).not.toContain(oldId);
    expect(finalList.members).toHaveLength(3);

    const end = Date.now();
    await waitFor('writes after the changes', async () => (load.ackedBetween(end, Infinity) >= 50 ? true : undefined), 20_000);
    await load.stop();

    // Writes were served throughout: every phase saw acknowledged puts started within it.
    for (const p of phases) {
      const n = load.ackedBetween(p.from, Math.max(p.to, p.from + 200));
      console.log(`membership: ${p.name}: ${p.to - p.from} ms, ${n} writes acknowledged`);
      expect(n, `no write served during "${p.name}"`).toBeGreaterThan(0);
    }
    // And nothing acknowledged was lost; the promoted member has it all.
    const keys = new Set(await clients.of(learner).getAll().prefix('m/').keys());
    expect([...load.acked].filter((k) => !keys.has(k))).toEqual([]);
  }, 240_000);
});
