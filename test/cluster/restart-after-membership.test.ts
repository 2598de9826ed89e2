/**
 * A membership change, then every member restarted at once (issue 12's defect, on three real
 * members): a member must come back under the configuration it had reached, not the one of its
 * last snapshot, and nothing acknowledged may be lost. Snapshots are taken every 300 entries: the
 * change comes after the first one and fewer than 300 entries before the restart, so every
 * member's newest snapshot is older than the change (the new member's too: it joins from the
 * leader's snapshot, and the configuration change that added it follows in the log). Run twice:
 * after a clean stop (the commit index written at close) and after SIGKILL (the commit index
 * raised to what the database had applied).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalCluster, type LocalMember } from '../../cluster/local-cluster.js';
import { Clients, leaderOf, waitFor, WriteLoad } from './helpers.js';

interface WireMember {
  ID: string;
  peerURLs: string[];
  isLearner?: boolean;
}

let cluster: LocalCluster | undefined;
const clients = new Clients();

afterEach(async () => {
  clients.closeAll();
  await cluster?.stopAll('SIGKILL');
  cluster = undefined;
});

async function changeThenRestart(signal: NodeJS.Signals): Promise<void> {
  const c = await LocalCluster.create({ size: 3, output: 'file', flags: ['--snapshot-count', '300', '--snapshot-catchup-entries', '20'] });
  console.log(`restart test (${signal}): member logs in ${c.baseDir}`);
  cluster = c;
  c.startAll();
  const original = c.members.slice(0, 3);
  let serving: LocalMember[] = original;
  await waitFor('a leader', () => leaderOf(clients, serving), 30_000);
  const load = new WriteLoad(clients, () => serving, 'r/a');
  await waitFor('writes', async () => (load.acked.size >= 320 ? true : undefined), 30_000);
  // The load stops for the change, so that fewer than 300 entries follow it.
  await load.stop();

  // Add a fourth voter and start it: it joins and catches up from the leader's snapshot.
  const added = await c.addMemberSpec();
  const lead = await waitFor('a leader', () => leaderOf(clients, serving), 20_000);
  const resp = (await clients.of(lead).cluster.memberAdd({ peerURLs: [added.peerUrl] })) as unknown as { member: WireMember };
  c.start(added, 'existing', c.members.map((m) => `${m.name}=${m.peerUrl}`).join(','));
  await waitFor('the new member to catch up', async () => ((await clients.of(added).getAll().prefix('r/').serializable(true).count()) >= load.acked.size ? true : undefined), 60_000);
  serving = [...original, added];
  const after = new WriteLoad(clients, () => serving, 'r/b');
  await waitFor('writes after the change', async () => (after.acked.size >= 100 ? true : undefined), 30_000);
  await after.stop();
  const acked = [...load.acked, ...after.acked];

  // Every member down at once, then up again.
  await Promise.all(c.members.map((m) => c.kill(m, signal)));
  for (const m of c.members) c.start(m, m === added ? 'existing' : 'new', c.members.map((x) => `${x.name}=${x.peerUrl}`).join(','));
  const newLead = await waitFor('a leader after the restart', () => leaderOf(clients, c.members), 30_000);

  // The configuration reached before the restart: four voters.
  const list = (await clients.of(newLead).cluster.memberList({})) as unknown as { members: WireMember[] };
  expect(list.members.map((m) => m.ID).sort()).toContain(resp.member.ID);
  expect(list.members.filter((m) => m.isLearner !== true)).toHaveLength(4);
  // Nothing acknowledged was lost, on any member (a linearizable read on each).
  for (const m of c.members) {
    const keys = new Set(await waitFor(`${m.name} to serve reads`, () => clients.of(m).getAll().prefix('r/').keys(), 20_000));
    expect(acked.filter((k) => !keys.has(k)), `acknowledged writes missing on ${m.name}`).toEqual([]);
  }
}

describe('restart after a membership change', () => {
  it('after a clean stop, comes back under the new configuration with every acknowledged write', () => changeThenRestart('SIGTERM'), 240_000);
  it('after SIGKILL, comes back under the new configuration with every acknowledged write', () => changeThenRestart('SIGKILL'), 240_000);
});
