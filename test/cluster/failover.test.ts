/**
 * Failover on a real 3-member cluster of tsetcd processes: under a write load, SIGKILL the
 * leader, three times over. A new leader must serve writes within two election timeouts, no
 * acknowledged write may be lost, and each killed member, restarted after the others compacted
 * their raft logs past it, must catch up through a snapshot.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, type LocalMember } from '../../cluster/local-cluster.js';
import { Clients, leaderOf, waitFor, WriteLoad } from './helpers.js';

const ELECTION_MS = 1000;
let cluster: LocalCluster;
const clients = new Clients();

beforeAll(async () => {
  cluster = await LocalCluster.create({
    size: 3,
    // Small snapshots so a member that misses a few hundred writes needs one to catch up.
    flags: ['--snapshot-count', '200', '--snapshot-catchup-entries', '50', '--election-timeout', String(ELECTION_MS)],
  });
  cluster.startAll();
  await waitFor('a leader', () => leaderOf(clients, cluster.members), 30_000);
}, 60_000);

afterAll(async () => {
  clients.closeAll();
  await cluster?.stopAll('SIGKILL');
});

describe('failover', () => {
  // Elections are randomized, so one failover can draw a split vote (two followers timing out
  // together) and take a second election timeout, in etcd as here. The bound is asserted on the
  // median of three leader kills, with every kill held to three election timeouts.
  it('a new leader serves writes within two election timeouts (median of 3 kills); nothing acknowledged is lost; killed members catch up by snapshot', async () => {
    const recoveries: number[] = [];
    const allKeys = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const leader = await waitFor('a leader', () => leaderOf(clients, cluster.members), 20_000);
      const others = cluster.members.filter((m) => m !== leader);
      const load = new WriteLoad(clients, () => others, `w${round}`);
      await waitFor('some writes', async () => (load.acked.size >= 200 ? true : undefined), 20_000);

      const killedAt = Date.now();
      await cluster.kill(leader, 'SIGKILL');
      const resumedAt = await waitFor('a write started after the kill', async () => load.firstAckOfPutStartedAfter(killedAt), 10 * ELECTION_MS);
      recoveries.push(resumedAt - killedAt);
      console.log(`failover: writes resumed ${resumedAt - killedAt} ms after SIGKILL of the leader (${leader.name})`);

      // Let the survivors write well past a snapshot while the old leader is down.
      const before = load.acked.size;
      await waitFor('writes past a snapshot', async () => (load.acked.size >= before + 600 ? true : undefined), 60_000);
      await load.stop();

      // Every acknowledged write is readable (linearizably) from a survivor.
      const survivor = others[0] as LocalMember;
      const keys = new Set(await clients.of(survivor).getAll().prefix('w').keys());
      expect([...load.acked].filter((k) => !keys.has(k))).toEqual([]);
      for (const k of load.acked) allKeys.add(k);

      // The old leader comes back and catches up through a snapshot.
      const installsBefore = ((await readFile(leader.logFile, 'utf8')).match(/installed database snapshot/g) ?? []).length;
      cluster.start(leader);
      await waitFor(
        'the restarted member to catch up',
        async () => ((await clients.of(leader).getAll().prefix('w').serializable(true).count()) >= keys.size ? true : undefined),
        60_000,
      );
      // It did so through a snapshot (the log line may still be on its way through the pipe).
      await waitFor(
        'the snapshot install in the log',
        async () => (((await readFile(leader.logFile, 'utf8')).match(/installed database snapshot/g) ?? []).length > installsBefore ? true : undefined),
        10_000,
      );
      expect(new Set(await clients.of(leader).getAll().prefix('w').keys())).toEqual(keys);
    }
    const sorted = [...recoveries].sort((x, y) => x - y);
    console.log(`failover: ${recoveries.join(', ')} ms; median ${sorted[1]} ms`);
    expect(sorted[1]).toBeLessThan(2 * ELECTION_MS);
    expect(sorted[2]).toBeLessThan(3 * ELECTION_MS);
    expect(allKeys.size).toBeGreaterThan(0);
  }, 300_000);
});
