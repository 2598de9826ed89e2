/**
 * Simulated clusters for tests: a started cluster of `size` members on virtual time, its leader,
 * and `run`, which drives the simulation until a call settles. Between calls virtual time
 * stands still; `advance` moves it on with every timer of every member firing on the way.
 *
 *   const m = await simCluster({ size: 1 });
 *   const g = await m.run(m.leader().server!.leaseGrant(1, 0n));
 *   await m.advance(999); // the lease's key is still there
 */
import type { BugName } from '../../src/util/test-hook-names.js';
import { Cluster } from './cluster.js';
import type { SimNode } from './sim-node.js';

export interface SimClusterOptions {
  readonly size?: number;
  /** Members that membership changes may add (n(size+1)...). */
  readonly spare?: number;
  readonly seed?: number;
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  readonly snapshotCount?: number;
  readonly watchProgressNotifyMs?: number;
  readonly bugs?: readonly BugName[];
}

export interface SimCluster {
  readonly c: Cluster;
  /** Virtual milliseconds since the simulation started. */
  now(): number;
  /** Drives the simulation until `p` settles (throws if it has not within limitMs of virtual time). */
  run<T>(p: Promise<T>, limitMs?: number): Promise<T>;
  /** Moves virtual time on by ms. */
  advance(ms: number): Promise<void>;
  /** The member that leads now, after driving until one does (at most 20 s of virtual time). */
  leader(): Promise<SimNode>;
}

export async function simCluster(o: SimClusterOptions = {}): Promise<SimCluster> {
  const c = new Cluster({
    seed: o.seed ?? 1,
    initial: o.size ?? 1,
    spare: o.spare ?? 0,
    net: { delayMs: 0.5, jitterMs: 0, lossRate: 0 },
    node: {
      heartbeatMs: o.heartbeatMs ?? 100,
      electionMs: o.electionMs ?? 1000,
      snapshotCount: o.snapshotCount ?? 10_000,
      snapshotCatchUpEntries: 100,
      ...(o.watchProgressNotifyMs !== undefined ? { watchProgressNotifyMs: o.watchProgressNotifyMs } : {}),
    },
    bugs: o.bugs ?? [],
  });
  const m: SimCluster = {
    c,
    now: () => c.sched.now,
    run: (p, limitMs = 30_000) => c.drive(p, limitMs),
    advance: (ms) => c.runUntil(c.sched.now + ms),
    leader: async () => {
      const found = (): SimNode | undefined => c.up.find((n) => n.server?.member.isRunning === true && n.server.isLeader());
      await c.drive(
        (async () => {
          for (let i = 0; i < 400 && found() === undefined; i++) await c.sched.sleep(50, c.owner);
        })(),
        21_000,
      );
      const l = found();
      if (l === undefined) throw new Error('no leader within 20 s of virtual time');
      return l;
    },
  };
  await m.run(c.bootstrap());
  await m.leader();
  return m;
}
