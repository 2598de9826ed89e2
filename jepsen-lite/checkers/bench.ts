/**
 * Checker time and memory on generated histories (item 38): register 30k and 100k ops
 * (≤ 300 ops and ≤ 5 processes per key, some info ops, with the collector's committed log),
 * list-append 10k txns. Each case runs in its own process so its peak RSS is its own.
 *
 *   npx tsx jepsen-lite/checkers/bench.ts            # all cases
 *   npx tsx jepsen-lite/checkers/bench.ts register-30k
 *
 * Targets: register 30k ≤ 10 s, 100k ≤ 60 s; append 10k ≤ 30 s; RSS ≤ 4 GB.
 */
import { fork } from 'node:child_process';
import { checkAppend } from './append.js';
import { buildCommittedLog } from './committed-log.js';
import { generateAppendHistory, generateRegisterHistory } from './generate.js';
import { checkRegister } from './register.js';
import { checkRevisionReplay } from './replay.js';
import { checkRevisions } from './revision.js';

const CASES: Record<string, { target_s: number; run: () => Record<string, unknown> }> = {
  'register-30k': { target_s: 10, run: () => registerCase(30_000) },
  'register-100k': { target_s: 60, run: () => registerCase(100_000) },
  // The worst case the workload allows: 5 info writes per key, none resolved by a collector.
  'register-100k-no-log': { target_s: 60, run: () => registerCase(100_000, false) },
  'append-10k': { target_s: 30, run: () => appendCase(10_000) },
};

function registerCase(ops: number, withLog = true): Record<string, unknown> {
  const h = generateRegisterHistory({ seed: 42, ops, infoRate: withLog ? 0.02 : 0.05 });
  const t0 = performance.now();
  const { log } = buildCommittedLog(h.watches);
  const r = checkRegister(h.events, withLog ? { committed: log! } : {});
  const t1 = performance.now();
  const rev = checkRevisions(h.events);
  const t2 = performance.now();
  return { valid: r.valid, events: h.events.length, keys: r.stats['keys'], infoUnresolved: r.stats['infoUnresolved'], steps: r.stats['steps'], check_s: (t1 - t0) / 1000, revision_s: (t2 - t1) / 1000, revisionValid: rev.valid };
}

function appendCase(txns: number): Record<string, unknown> {
  const h = generateAppendHistory({ seed: 42, txns, infoRate: 0.02 });
  const t0 = performance.now();
  const r = checkAppend(h.events);
  const t1 = performance.now();
  const replay = checkRevisionReplay(h.events);
  const t2 = performance.now();
  return { valid: r.valid, verdict: r.verdict, nodes: r.stats['nodes'], edges: r.stats['edges'], check_s: (t1 - t0) / 1000, replay_s: (t2 - t1) / 1000, replayValid: replay.valid };
}

async function main(): Promise<void> {
  const which = process.argv[2];
  if (which !== undefined) {
    const c = CASES[which];
    if (c === undefined) throw new Error(`unknown case ${which}; one of ${Object.keys(CASES).join(', ')}`);
    const out = c.run();
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ case: which, target_s: c.target_s, ...out, peak_rss_mib: Math.round(rssMiB) }));
    return;
  }
  for (const name of Object.keys(CASES)) {
    await new Promise<void>((resolve, reject) => {
      const child = fork(process.argv[1]!, [name], { execArgv: process.execArgv });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited ${code}`))));
    });
  }
}

await main();
