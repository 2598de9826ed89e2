/**
 * The seeded Raft simulation (test/raft/sim/): every seed builds a cluster, runs faulty steps
 * with liveness checks and fails with SEED=<n> when a safety invariant breaks. Replay a failure
 * with `npm run sim -- --seed <n> --verbose`.
 *
 * Fixed seeds 1..500 (grouped by the cluster size each seed draws) plus a few fresh seeds per run,
 * printed so that a CI failure can be reproduced.
 */
import { describe, expect, it } from 'vitest';
import { paramsForSeed } from './sim/sim-params.js';
import { SimFailure } from './sim/sim-failure.js';
import type { Mutation } from './sim/sim-node.js';
import { runSimulation, type SimResult } from './sim/simulation.js';

const FIXED_SEEDS = 500;
const STEPS = 2000;

function seedsWithVoters(voters: number): number[] {
  const out: number[] = [];
  for (let s = 1; s <= FIXED_SEEDS; s++) if (paramsForSeed(s).voters === voters) out.push(s);
  return out;
}

/** Runs the seeds; collects failures so that one report lists all of them. */
function runSeeds(seeds: readonly number[], steps = STEPS): SimResult[] {
  const failures: string[] = [];
  const results: SimResult[] = [];
  for (const seed of seeds) {
    try {
      results.push(runSimulation({ seed, steps }));
    } catch (err) {
      if (!(err instanceof SimFailure)) throw err;
      // Keep the first failure in full (trace included), the rest as headlines.
      failures.push(failures.length === 0 ? err.message : err.headline);
    }
  }
  expect(failures, `${failures.length} of ${seeds.length} seeds failed`).toEqual([]);
  return results;
}

describe('raft simulation', () => {
  for (const voters of [3, 5, 7]) {
    it(`fixed seeds with ${voters} voters`, () => {
      const seeds = seedsWithVoters(voters);
      const results = runSeeds(seeds);
      // Sanity: the runs did real work (elections, commits, crashes) rather than idling.
      const committed = results.reduce((n, r) => n + r.stats.committed, 0);
      const crashes = results.reduce((n, r) => n + r.stats.crashes, 0);
      expect(committed / results.length).toBeGreaterThan(50);
      expect(crashes).toBeGreaterThan(seeds.length);
    });
  }

  it('fresh seeds', () => {
    const base = Date.now() >>> 0;
    const seeds = [0, 1, 2, 3, 4].map((i) => (base + i * 7919) >>> 0);
    console.log(`fresh simulation seeds: ${seeds.map((s) => `SEED=${s}`).join(' ')}`);
    runSeeds(seeds);
  });

  it('is deterministic: one seed, one run', () => {
    for (const seed of [7, 123]) {
      const a = runSimulation({ seed, steps: 1500 });
      const b = runSimulation({ seed, steps: 1500 });
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.stats).toEqual(a.stats);
    }
    expect(runSimulation({ seed: 8, steps: 1500 }).traceHash).not.toBe(runSimulation({ seed: 7, steps: 1500 }).traceHash);
  });

  it('the liveness check fails when the network never heals', () => {
    let failure: SimFailure | undefined;
    try {
      runSimulation({ seed: 11, steps: 300, sabotageLiveness: true });
    } catch (err) {
      if (!(err instanceof SimFailure)) throw err;
      failure = err;
    }
    expect(failure?.reason).toMatch(/^liveness: no progress within 200 calm ticks/);
    expect(failure?.message).toMatch(/^SEED=11 step=\d+: liveness/);
  });

  // The checks must be able to fail. Two deliberately broken applications, checked first by
  // outcomes only (no rule checks): some seed among the first dozens must expose each.
  it('outcome checks catch an application that sends before persisting', () => {
    // Followers ack entries they may still lose in a crash: a leader then commits what a quorum
    // does not hold on disk.
    const found = firstViolation('send-before-persist', 100);
    expect(found?.reason).toMatch(/hold it on disk|committed entry|leader completeness|voted for|two leaders/);
  });

  it('outcome checks catch an application that does not persist its vote', () => {
    const found = firstViolation('forget-vote', 150);
    expect(found?.reason).toMatch(/voted for \d+ in term \d+, and then for|two leaders/);
  });

  it('rule checks catch both at the first unsafe message', () => {
    for (const mutation of ['send-before-persist', 'forget-vote'] as const) {
      expect(() => runSimulation({ seed: 1, steps: 300, mutation })).toThrow(/sends MsgVote(Resp)? for \d+ in term \d+ while its disk holds/);
    }
  });
});

/** The first seed whose run breaks one of the simulation's own checks (seeds where the core's
 * assertions trip first are skipped). */
function firstViolation(mutation: Mutation, maxSeeds: number): SimFailure | undefined {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    try {
      runSimulation({ seed, steps: STEPS, mutation, checkRules: false });
    } catch (err) {
      if (!(err instanceof SimFailure)) throw err;
      if (!err.reason.startsWith('unexpected exception')) return err;
    }
  }
  return undefined;
}
