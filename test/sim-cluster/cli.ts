/**
 * npm run sim:cluster -- [--seeds N] [--seed S] [--first F] [--bug NAME] [--controls] [--nightly]
 *
 *   --seeds N      run seeds F..F+N-1 (default 20; F from --first, default 1)
 *   --seed S       run one seed and print its history hash and, on failure, its logs
 *   --bug NAME     turn a bug switch on (repeatable): the runs are then expected to fail
 *   --controls     for every bug switch, run seeds until one fails (at most --max-seeds, 60)
 *                  and print the seed that caught it; fails if a switch goes uncaught
 *   --nightly      5000 seeds from a seed derived from today's date
 *
 * A failing run prints SEED=<n>; `--seed <n>` (with the same --bug flags) replays it exactly.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { BUGS, type BugName } from '../../src/util/test-hook-names.js';
import { runSeed, type RunReport } from './run.js';

const program = new Command()
  .name('sim:cluster')
  .addOption(new Option('--seeds <n>', 'number of seeds').argParser(positive).default(20))
  .addOption(new Option('--first <n>', 'first seed').argParser(positive).default(1))
  .addOption(new Option('--seed <n>', 'one seed, verbose').argParser(positive))
  .addOption(new Option('--bug <name...>', 'bug switches').choices([...BUGS]))
  .option('--controls', 'each bug switch must be caught')
  .addOption(new Option('--max-seeds <n>', 'seeds per bug switch in --controls').argParser(positive).default(60))
  .option('--nightly', 'thousands of seeds')
  .option('--duration <ms>', 'virtual ms of load per run (default: drawn per seed)')
  .option('--out <dir>', 'with --seed: write the history there as a jepsen-lite run directory')
  .parse();

const o = program.opts<{ seeds: number; first: number; seed?: number; bug?: BugName[]; controls?: boolean; maxSeeds: number; nightly?: boolean; duration?: string; out?: string }>();

function positive(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${s}`);
  return n;
}

function line(r: RunReport, realMs: number): string {
  return `seed ${r.seed} ${r.ok ? 'ok  ' : 'FAIL'} hash ${r.hash} ops ${r.ops} steps ${r.steps} virtual ${(r.virtualMs / 1000).toFixed(1)} s real ${(realMs / 1000).toFixed(1)} s (${r.params})`;
}

async function one(seed: number, bugs: readonly BugName[]): Promise<RunReport> {
  const t0 = performance.now();
  const r = await runSeed({ seed, bugs, keepHistory: o.out !== undefined, ...(o.duration !== undefined ? { durationMs: Number(o.duration) } : {}) });
  if (o.out !== undefined && r.history !== undefined) {
    await r.history.save(o.out);
    for (const [node, log] of Object.entries(r.fullLogs ?? {})) await writeFile(path.join(o.out, `${node}.log`), log.join('\n') + '\n');
    console.log(`history written to ${o.out}`);
  }
  console.log(line(r, performance.now() - t0));
  if (!r.ok) {
    console.log(`SEED=${seed}${bugs.length > 0 ? ` (bugs: ${bugs.join(',')})` : ''}`);
    for (const f of r.failures.slice(0, 10)) console.log(`  ${f.split('\n').slice(0, 8).join('\n  ')}`);
  }
  return r;
}

async function main(): Promise<number> {
  process.on('unhandledRejection', (e) => {
    console.error('unhandled rejection:', e);
    process.exitCode = 1;
  });
  const bugs = o.bug ?? [];
  if (o.seed !== undefined) {
    const r = await one(o.seed, bugs);
    if (!r.ok) for (const [node, log] of Object.entries(r.logs)) console.log(`--- ${node}\n${log.join('\n')}`);
    console.log(`checkers: ${JSON.stringify(r.checkers)}`);
    return r.ok === (bugs.length === 0) ? 0 : 1;
  }
  if (o.controls) {
    let uncaught = 0;
    for (const bug of BUGS) {
      let caught: RunReport | undefined;
      for (let s = o.first; s < o.first + o.maxSeeds && caught === undefined; s++) {
        const r = await runSeed({ seed: s, bugs: [bug] });
        if (!r.ok) caught = r;
      }
      if (caught === undefined) {
        uncaught++;
        console.log(`control ${bug}: NOT caught in ${o.maxSeeds} seeds`);
      } else {
        console.log(`control ${bug}: caught at seed ${caught.seed} (${caught.seed - o.first + 1} seeds); SEED=${caught.seed} --bug ${bug}`);
        for (const f of caught.failures.slice(0, 2)) console.log(`  ${f.split('\n')[0]?.slice(0, 300)}`);
      }
    }
    return uncaught === 0 ? 0 : 1;
  }
  const count = o.nightly ? 5000 : o.seeds;
  const first = o.nightly ? Math.floor(Date.now() / 86_400_000) * 10_000 : o.first;
  let failed = 0;
  const t0 = performance.now();
  for (let s = first; s < first + count; s++) {
    const r = await one(s, bugs);
    if (!r.ok) failed++;
  }
  console.log(`${count} seeds, ${failed} failed, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
