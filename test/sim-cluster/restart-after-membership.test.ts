/**
 * A member restarted after a membership change it applied must come back under that
 * configuration (issue 12's defect). On one member: add a member that is never started (quorum
 * is lost, as with etcd), restart, and let many election timeouts pass on the simulated clock:
 * the member must never lead again, and its commit index must cover the change. The old
 * behaviour (commit-only hard states not written) is kept behind the `stale-commit-restart` bug
 * switch, and the same scenario must catch it. A three-member version restarts every member
 * after the change and checks that every acknowledged write survives.
 */
import { describe, expect, it } from 'vitest';
import type { BugName } from '../../src/util/test-hook-names.js';
import { simCluster, type SimCluster } from './harness.js';
import { utf8 } from './history.js';

const ELECTION_MS = 1000;

/** No raft snapshot covers the change, so a restart must find it in the log. */
const cluster = (size: number, bugs: BugName[] = []): Promise<SimCluster> => simCluster({ size, spare: 1, seed: 7, electionMs: ELECTION_MS, snapshotCount: 100_000, bugs });

/** One member, 40 writes, then a voter added that never starts, then a restart. */
async function addThenRestart(bugs: BugName[], kill: boolean): Promise<{ c: SimCluster['c']; changeIndex: number; restartedAt: number }> {
  const m = await cluster(1, bugs);
  const c = m.c;
  const n1 = await m.leader();
  for (let i = 0; i < 40; i++) await c.drive(n1.server!.put({ key: utf8(`k${i}`), value: utf8(`v${i}`) }), 10_000);
  await c.drive(n1.server!.memberAdd([c.node('n2').peerUrl], false), 10_000);
  const changeIndex = c.ghostConfigOf('n1');
  expect(changeIndex).toBeGreaterThan(40);
  if (kill) n1.crash('kill');
  else await c.drive(n1.stop(), 10_000);
  const restartedAt = c.sched.now;
  await c.drive(c.restart(n1), 10_000);
  // Twenty election timeouts: time enough to campaign many times.
  await c.runUntil(c.sched.now + 20 * ELECTION_MS);
  return { c, changeIndex, restartedAt };
}

describe('restart after a membership change (simulated time)', () => {
  for (const kill of [false, true]) {
    it(`one member ${kill ? 'killed' : 'stopped'}: never leads under the configuration it left`, async () => {
      const { c, changeIndex, restartedAt } = await addThenRestart([], kill);
      expect(c.violations).toEqual([]);
      expect(c.leaderships.filter((l) => l.at > restartedAt)).toEqual([]);
      const p = c.node('n1').server!.member.parts;
      expect(p.node.committed()).toBeGreaterThanOrEqual(changeIndex);
      expect(p.applier.configIndex).toBe(changeIndex);
      expect(p.node.confState().voters).toHaveLength(2);
    });
  }

  it('the stale-commit-restart bug switch is caught: the member leads under the old configuration', async () => {
    const { c, restartedAt } = await addThenRestart(['stale-commit-restart'], false);
    expect(c.violations.join('\n')).toMatch(/n1 leads in term \d+ under the configuration of index \d+, after it applied the change at index \d+/);
    expect(c.leaderships.some((l) => l.at > restartedAt)).toBe(true);
  });

  it('three members: a voter added, every member restarted, every acknowledged write kept', async () => {
    const m = await cluster(3);
    const c = m.c;
    const acked: string[] = [];
    const write = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        const leader = await m.leader();
        await c.drive(leader.server!.put({ key: utf8(`k${i}`), value: utf8(`v${i}`) }), 10_000);
        acked.push(`k${i}`);
      }
    };
    await write(0, 30);
    const leader = await m.leader();
    await c.drive(leader.server!.memberAdd([c.node('n4').peerUrl], false), 10_000);
    c.members.add('n4');
    for (const n of c.up) n.crash('kill');
    await c.drive(Promise.all(c.nodes.slice(0, 3).map((n) => c.restart(n))), 10_000);
    await write(30, 40);
    await c.drive(c.restart(c.node('n4')), 10_000);
    await write(40, 60);
    await c.runUntil(c.sched.now + 3 * ELECTION_MS);
    expect(c.violations).toEqual([]);
    for (const n of c.nodes) {
      const got = await c.drive(n.server!.range({ key: utf8('k'), rangeEnd: utf8('l'), serializable: true }), 10_000);
      expect(got.kvs.map((kv) => Buffer.from(kv.key).toString()).sort(), n.name).toEqual([...acked].sort());
      expect(n.server!.member.parts.node.confState().voters, n.name).toHaveLength(4);
    }
  });
});
