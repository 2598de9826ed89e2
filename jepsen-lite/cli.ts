#!/usr/bin/env node
/**
 * jepsen-lite's command line (items 1, 35):
 *
 *   jepsen-lite run --workload register --nemesis kill,partition --schedule mixed --nodes 3 \
 *     --time-limit 60 --rate 300 --concurrency 10 --seed 7 [--out runs/<dir>] [--bug <name>] \
 *     [--failpoint beforeApply=sleep(50)]
 *   jepsen-lite check <run-dir>        re-runs the checkers on a saved run
 *   jepsen-lite matrix smoke|nightly   CI suites (matrix.ts)
 *   jepsen-lite export RUN_DIR         the register operations as JSON Lines (export.ts)
 *
 * Prints one line per checker and the run dir. Exit: 0 valid, 1 invalid, 3 unknown, 2 harness
 * error (bad arguments, a cluster that never became healthy, a crash of the harness).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BUGS } from '../src/util/test-hook-names.js';
import { exportRunDir } from './export.js';
import { runMatrix, PRESETS } from './matrix.js';
import { NEMESES, NEMESIS_MODES } from './nemesis/index.js';
import { checkRun, exitCode, runTest, verdictText, type Progress, type RunOutcome } from './run.js';
import type { CheckResult } from './checkers/index.js';
import type { NemesisName, RunConfig, WorkloadName } from './types.js';

const WORKLOADS: readonly WorkloadName[] = ['register', 'append', 'watch', 'lease', 'wr', 'set', 'lock'];
export const EXIT_HARNESS_ERROR = 2;

function int(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export interface NemesisSpec {
  readonly nemeses: NemesisName[];
  readonly modes: Partial<Record<NemesisName, string[]>>;
}

/** `kill,partition:isolate-leader+halves`: nemeses, each optionally restricted to some modes. */
export function parseNemeses(v: string): NemesisSpec {
  const nemeses: NemesisName[] = [];
  const modes: Partial<Record<NemesisName, string[]>> = {};
  for (const part of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [name = '', modeList] = part.split(':');
    if (name !== 'none' && !(NEMESES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown nemesis "${name}" (known: none, ${NEMESES.join(', ')})`);
    const n = name as NemesisName;
    nemeses.push(n);
    if (modeList !== undefined) {
      const ms = modeList.split('+').filter((m) => m !== '');
      const known = NEMESIS_MODES[n] ?? [];
      for (const m of ms) if (!known.includes(m)) throw new InvalidArgumentError(`nemesis ${n} has no mode "${m}" (known: ${known.join(', ') || 'none'})`);
      modes[n] = ms;
    }
  }
  return { nemeses: nemeses.length > 0 ? nemeses : ['none'], modes };
}

export function defaultRunDir(workload: string, nemeses: readonly string[], now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return path.join('runs', `${stamp}-${workload}-${nemeses.join('+')}`);
}

export function printResults(results: readonly CheckResult[], runDir: string, write: (s: string) => void = (s) => console.log(s)): void {
  for (const r of results) {
    const first = r.anomalies[0];
    const why = first !== undefined ? ` — ${first.type}: ${first.message}` : typeof r.stats['unknown'] === 'string' ? ` — ${r.stats['unknown']}` : '';
    write(`  ${r.checker.padEnd(16)} ${verdictText(r.valid).padEnd(8)}${why.slice(0, 160)}`);
  }
  write(`run dir: ${runDir}`);
}

/** A progress bar on a terminal, a line every 5 s otherwise (CI logs). */
function progressReporter(timeLimitS: number): { update: (p: Progress) => void; stop: () => void } {
  if (process.stderr.isTTY !== true) {
    let last = 0;
    let lastPhase = '';
    return {
      update: (p) => {
        if (Date.now() - last < 5000 && p.phase === lastPhase) return;
        last = Date.now();
        lastPhase = p.phase;
        process.stderr.write(`[${p.elapsedS.toFixed(0)}s] ${p.phase} ops ${p.ops} ok ${p.ok} fail ${p.fail} info ${p.info}${p.nemesis ? ` nemesis ${p.nemesis}` : ''}\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: '{bar} {value}/{total}s | {phase} | ops {ops} ok {ok} fail {fail} info {info} | {nemesis}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(timeLimitS, 0, { phase: 'starting', ops: 0, ok: 0, fail: 0, info: 0, nemesis: '' });
  return {
    update: (p) => bar.update(Math.min(timeLimitS, Math.floor(p.elapsedS)), { phase: p.phase, ops: p.ops, ok: p.ok, fail: p.fail, info: p.info, nemesis: p.nemesis }),
    stop: () => bar.stop(),
  };
}

/** Ctrl-C aborts the run (members are stopped by PID); a second Ctrl-C exits at once. */
function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSigint = (): void => {
    if (ac.signal.aborted) process.exit(EXIT_HARNESS_ERROR);
    process.stderr.write('\ninterrupted: stopping the cluster...\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    },
  };
}

export async function runCommand(config: RunConfig, quiet = false): Promise<number> {
  const progress = quiet ? undefined : progressReporter(config.timeLimitS);
  const { signal, dispose } = interruptSignal();
  let outcome: RunOutcome;
  try {
    outcome = await runTest(config, { signal, ...(progress ? { onProgress: progress.update } : {}) });
  } catch (e) {
    progress?.stop();
    console.error(`harness error: ${e instanceof Error ? e.message : String(e)}`);
    console.log(`run dir: ${path.resolve(config.outDir)}`);
    return EXIT_HARNESS_ERROR;
  } finally {
    dispose();
  }
  progress?.stop();
  console.log(`${config.workload} / ${config.nemeses.join(',')} / ${config.schedule}, seed ${config.seed}: ${verdictText(outcome.valid)}`);
  printResults(outcome.results, outcome.runDir);
  return exitCode(outcome.valid);
}

export function buildProgram(setExit: (code: number) => void): Command {
  // exitOverride before the subcommands exist, so they inherit it: a usage error exits 2 (main).
  const program = new Command('jepsen-lite').description('fault-injection tests of tsetcd (JEPSEN-LITE.md)').showHelpAfterError().exitOverride();
  program
    .command('run')
    .description('start a cluster, run a workload under faults, check the history')
    .addOption(new Option('--workload <name>', 'workload').choices(WORKLOADS).default('register'))
    .addOption(
      new Option('--nemesis <list>', 'comma-separated nemeses, or none; name:mode+mode restricts one (e.g. kill-lossy:all)')
        .argParser(parseNemeses)
        .default({ nemeses: ['none'], modes: {} } satisfies NemesisSpec, 'none'),
    )
    .addOption(new Option('--schedule <kind>', 'fault schedule').choices(['single', 'mixed']).default('mixed'))
    .option('--nodes <n>', 'members', int('--nodes', 1, 9), 3)
    .option('--time-limit <s>', 'seconds of workload', int('--time-limit', 1, 86_400), 60)
    .option('--rate <ops>', 'target ops/s over all clients', int('--rate', 1, 1_000_000), 300)
    .option('--concurrency <n>', 'client threads', int('--concurrency', 1, 10_000), 10)
    .option('--seed <n>', 'seed (default: random, printed)', int('--seed', 0, 2 ** 32 - 1))
    .option('--out <dir>', 'run dir (default runs/<time>-<workload>-<nemeses>)')
    .option('--bug <name>', `bug switch for positive controls (${BUGS.join(', ')}); repeatable`, collect, [] as string[])
    .option('--failpoint <spec>', 'failpoint armed at start, e.g. beforeApply=sleep(50); repeatable', collect, [] as string[])
    .option('--member-flag <flag>', 'extra tsetcd flag (repeat per word)', collect, [] as string[])
    .option('--election-ms <ms>', 'members\' election timeout', int('--election-ms', 50, 60_000), 1000)
    .option('--quiet', 'no progress output')
    .action(async (o: { workload: WorkloadName; nemesis: NemesisSpec; schedule: 'single' | 'mixed'; nodes: number; timeLimit: number; rate: number; concurrency: number; seed?: number; out?: string; bug: string[]; failpoint: string[]; memberFlag: string[]; electionMs: number; quiet?: boolean }) => {
      for (const b of o.bug) if (!(BUGS as readonly string[]).includes(b)) throw new InvalidArgumentError(`unknown bug switch "${b}" (known: ${BUGS.join(', ')})`);
      const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
      const config: RunConfig = {
        workload: o.workload,
        nemeses: o.nemesis.nemeses,
        ...(Object.keys(o.nemesis.modes).length > 0 ? { nemesisModes: o.nemesis.modes } : {}),
        schedule: o.schedule,
        nodes: o.nodes,
        timeLimitS: o.timeLimit,
        rate: o.rate,
        concurrency: o.concurrency,
        seed,
        outDir: o.out ?? defaultRunDir(o.workload, o.nemesis.nemeses),
        bugs: o.bug,
        failpoints: o.failpoint,
        memberFlags: o.memberFlag,
        electionMs: o.electionMs,
      };
      console.log(`jepsen-lite run: seed ${seed}, run dir ${path.resolve(config.outDir)}`);
      setExit(await runCommand(config, o.quiet === true));
    });
  program
    .command('check <run-dir>')
    .description('re-run the checkers on a saved run dir')
    .action(async (dir: string) => {
      const { valid, results } = await checkRun(path.resolve(dir));
      printResults(results, path.resolve(dir));
      setExit(exitCode(valid));
    });
  program
    .command('export <run-dir>')
    .description('print the register operations of a run as JSON Lines, for an outside checker')
    .action(async (dir: string) => {
      let text = '';
      await exportRunDir(path.resolve(dir), (line) => (text += line));
      // main() exits the process: wait until stdout (a pipe, often) has taken everything.
      await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
      setExit(0);
    });
  program
    .command('matrix <preset>')
    .description(`run a CI suite: ${Object.keys(PRESETS).join(', ')}`)
    .option('--out <dir>', 'parent dir of the runs', 'runs')
    .option('--seed <n>', 'base seed (nightly: random, printed)', int('--seed', 0, 2 ** 32 - 1))
    .option('--time-limit <s>', 'override every run\'s time limit', int('--time-limit', 1, 86_400))
    .action(async (preset: string, o: { out: string; seed?: number; timeLimit?: number }) => {
      setExit(await runMatrix(preset, { outDir: o.out, ...(o.seed === undefined ? {} : { seed: o.seed }), ...(o.timeLimit === undefined ? {} : { timeLimitS: o.timeLimit }) }));
    });
  return program;
}

async function main(): Promise<void> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help') code = 0;
    else if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) code = EXIT_HARNESS_ERROR;
    else {
      console.error(`harness error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      code = EXIT_HARNESS_ERROR;
    }
  }
  // Exit now: the members are stopped by then, and a workload interrupted before its final
  // phase may still hold watch streams that would keep the event loop alive.
  process.exit(code);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) void main();
