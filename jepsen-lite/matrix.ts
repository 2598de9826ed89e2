/**
 * CI suites (item 39), run one after another:
 *
 * - `smoke` (≤ 10 min): register+kill, register+pause, append+partition, watch+kill-lossy,
 *   lease+clock, and one positive control that must be found invalid: ack-before-fsync with every
 *   member killed at once and cut back to its (empty) fsync record.
 * - `controls`: one run per bug switch, each expected invalid, with the fault mode that exposes
 *   it (isolate-leader for read-without-readindex, kill-lossy of all for ack-before-fsync).
 * - `ci`: smoke plus the controls, so every bug switch is caught in CI (npm test runs it).
 * - `nightly` (≥ 1 h): random workload, one or two random nemeses, mixed schedule, 2 min each,
 *   seeds from the base seed (printed) until the hour is up.
 *
 * Exit: 0 when every run's verdict is the expected one, 1 when one is not, 2 on a harness error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Prng } from '../src/util/prng.js';
import { runTest, verdictText, type RunOutcome } from './run.js';
import type { NemesisName, RunConfig, WorkloadName } from './types.js';

export interface MatrixEntry {
  readonly workload: WorkloadName;
  readonly nemeses: readonly NemesisName[];
  readonly schedule: 'single' | 'mixed';
  readonly timeLimitS: number;
  readonly bugs?: readonly string[];
  readonly nemesisModes?: RunConfig['nemesisModes'];
  /** The verdict this run must get: positive controls expect false. */
  readonly expect: true | false;
}

const SMOKE: readonly MatrixEntry[] = [
  { workload: 'register', nemeses: ['kill'], schedule: 'single', timeLimitS: 20, expect: true },
  { workload: 'register', nemeses: ['pause'], schedule: 'single', timeLimitS: 20, expect: true },
  { workload: 'append', nemeses: ['partition'], schedule: 'single', timeLimitS: 20, expect: true },
  { workload: 'watch', nemeses: ['kill-lossy'], schedule: 'single', timeLimitS: 20, expect: true },
  { workload: 'lease', nemeses: ['clock'], schedule: 'single', timeLimitS: 20, expect: true },
  // Positive control: every member loses its whole WAL (nothing was fsynced) at once.
  { workload: 'register', nemeses: ['kill-lossy'], nemesisModes: { 'kill-lossy': ['all'] }, schedule: 'single', timeLimitS: 10, bugs: ['ack-before-fsync'], expect: false },
];

const CONTROLS: readonly MatrixEntry[] = [
  { workload: 'register', nemeses: ['partition'], nemesisModes: { partition: ['isolate-leader'] }, schedule: 'mixed', timeLimitS: 30, bugs: ['read-without-readindex'], expect: false },
  { workload: 'register', nemeses: ['kill-lossy'], nemesisModes: { 'kill-lossy': ['all'] }, schedule: 'single', timeLimitS: 10, bugs: ['ack-before-fsync'], expect: false },
  { workload: 'watch', nemeses: ['none'], schedule: 'single', timeLimitS: 10, bugs: ['skip-watch-event'], expect: false },
  // No fault needed: with the bug Lock grants every contender at once, so fenced writes with
  // smaller tokens land after larger ones within seconds (10 s runs, seeds 1 and 2: 81 and 148).
  { workload: 'lock', nemeses: ['none'], schedule: 'single', timeLimitS: 10, bugs: ['lock-without-lease-check'], expect: false },
];

export const PRESETS: Readonly<Record<string, (prng: Prng) => MatrixEntry[]>> = {
  smoke: () => [...SMOKE],
  controls: () => [...CONTROLS],
  // What CI runs (npm test): the smoke runs, then every bug switch's control (the smoke set
  // already has ack-before-fsync's).
  ci: () => [...SMOKE, ...CONTROLS.filter((c) => !(c.bugs ?? []).includes('ack-before-fsync'))],
  nightly: (prng) => {
    const workloads: WorkloadName[] = ['register', 'append', 'watch', 'lease'];
    const nemeses: NemesisName[] = ['kill', 'kill-lossy', 'pause', 'partition', 'admin', 'clock', 'failpoint', 'disk'];
    // 30 runs of 2 min plus start, final phase and checks: over an hour.
    return Array.from({ length: 30 }, () => {
      const picked = prng.shuffle([...nemeses]).slice(0, prng.range(1, 2));
      return { workload: prng.pick(workloads), nemeses: picked, schedule: 'mixed' as const, timeLimitS: 120, expect: true as const };
    });
  },
};

export interface MatrixOptions {
  readonly outDir: string;
  readonly seed?: number;
  readonly timeLimitS?: number;
  readonly log?: (s: string) => void;
}

export async function runMatrix(preset: string, opts: MatrixOptions): Promise<number> {
  const make = PRESETS[preset];
  const log = opts.log ?? ((s: string) => console.log(s));
  if (make === undefined) {
    log(`unknown preset ${preset} (known: ${Object.keys(PRESETS).join(', ')})`);
    return 2;
  }
  const baseSeed = opts.seed ?? (preset === 'nightly' ? Math.floor(Math.random() * 2 ** 31) : 1);
  const prng = new Prng(baseSeed);
  const entries = make(prng);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const parent = path.resolve(opts.outDir, `matrix-${preset}-${stamp}`);
  await mkdir(parent, { recursive: true });
  log(`matrix ${preset}: ${entries.length} runs, base seed ${baseSeed}, in ${parent}`);
  const rows: string[] = [];
  let code = 0;
  for (const [i, e] of entries.entries()) {
    const seed = prng.nextUint32() >>> 1;
    const name = `${String(i + 1).padStart(2, '0')}-${e.workload}-${e.nemeses.join('+')}${e.bugs?.length ? `-bug-${e.bugs.join('+')}` : ''}`;
    const config: RunConfig = {
      workload: e.workload,
      nemeses: e.nemeses,
      schedule: e.schedule,
      nodes: 3,
      timeLimitS: opts.timeLimitS ?? e.timeLimitS,
      rate: 300,
      concurrency: 10,
      seed,
      outDir: path.join(parent, name),
      bugs: e.bugs ?? [],
      ...(e.nemesisModes === undefined ? {} : { nemesisModes: e.nemesisModes }),
      failpoints: [],
      memberFlags: [],
      electionMs: 1000,
    };
    const t0 = Date.now();
    let outcome: RunOutcome | undefined;
    let error = '';
    try {
      outcome = await runTest(config);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    const got = outcome === undefined ? 'harness error' : verdictText(outcome.valid);
    const ok = outcome !== undefined && outcome.valid === e.expect;
    if (outcome === undefined) code = 2;
    else if (!ok && code === 0) code = 1;
    const failing = outcome?.results.filter((r) => r.valid !== true).map((r) => `${r.checker}=${verdictText(r.valid)}`).join(' ') ?? error.slice(0, 120);
    const row = `| ${name} | ${seed} | ${e.expect ? 'valid' : 'INVALID'} | ${got} | ${ok ? 'ok' : 'UNEXPECTED'} | ${secs}s | ${failing.replace(/\|/g, '\\|')} |`;
    rows.push(row);
    log(row);
  }
  const table = [`# matrix ${preset}, base seed ${baseSeed}`, '', '| run | seed | expected | got | | time | not valid |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows, ''].join('\n');
  await writeFile(path.join(parent, 'summary.md'), table);
  log(`matrix ${preset}: ${code === 0 ? 'all as expected' : 'NOT all as expected'}; ${path.join(parent, 'summary.md')}`);
  return code;
}
