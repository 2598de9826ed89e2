#!/usr/bin/env node
/**
 * tsetcd-bench: a load generator with the sub-commands, flags and output of etcd's benchmark
 * tool (tools/benchmark, etcd 3.4), for figures that compare one to one with a real etcd.
 *
 *   tsetcd-bench --endpoints=127.0.0.1:2379 --clients=100 --conns=10 put --total=100000 --key-size=8 --val-size=256
 *   tsetcd-bench range foo --consistency=s --total=10000
 *   tsetcd-bench watch-latency --put-total=1000 --streams=10 --watchers-per-stream=10
 *
 * The text report goes to stdout, the progress bar to stderr. After etcd's summary it prints
 * what etcd's tool does not: the generator's CPU (all threads) and its busiest worker's
 * event-loop utilisation — near 100% means the generator, not the server, set the figure — and,
 * with --server-pids, those processes' CPU over the same window.
 *
 * Exit codes: 0 done; 1 a failure (no request succeeded, no client could start, a worker died);
 * 2 usage; 3 cut short by the deadline; 130 Ctrl-C.
 */
import { realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { parseCommandLine, UsageError } from './flags.js';
import { formatReport, statsJson } from './report.js';
import { BenchRunner, type BenchResult, type ProgressSink } from './run.js';

function progressBar(enabled: boolean): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(total, label) {
      if (!enabled) return;
      bar?.stop();
      bar = new cliProgress.SingleBar(
        { format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
    },
    update(value) {
      bar?.update(value);
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

const pct = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)}%` : '-');

/** The lines after etcd's summary: generator and server CPU. */
export function formatGenerator(r: BenchResult): string {
  const g = r.generator;
  let out = `\nGenerator: ${g.workers} worker thread(s), ${g.conns} connection(s), ${g.clients} client(s) over ${g.endpoints.join(',')}; ` + `CPU ${g.cpuSeconds.toFixed(2)} s in ${g.wallSeconds.toFixed(2)} s = ${pct(g.cpuPct)} of one core (${g.cores} cores); busiest worker: event loop ${pct(g.busiestElu)} busy, thread CPU ${pct(g.busiestThreadCpu)}\n`;
  // Under a second the figure is mostly start-up; the warning would be noise.
  if (g.busiestElu > 85 && g.wallSeconds >= 1) out += 'warning: a generator worker\'s event loop was more than 85% busy: the generator may be what limits this figure (raise --workers)\n';
  for (const s of r.servers) out += `Server pid ${s.pid}: CPU ${pct(s.cpuPct)} of one core over the same window\n`;
  return out;
}

export function formatText(r: BenchResult, precise: boolean): string {
  let out = r.preamble.map((l) => `${l}\n`).join('');
  for (const s of r.sections) out += `${s.title ? `${s.title}:\n` : ''}${formatReport(s.stats, precise)}`;
  for (const n of r.notes) out += `${n}\n`;
  out += formatGenerator(r);
  if (r.aborted) out += 'note: the run was cut short; the figures cover what completed\n';
  return out;
}

export function formatJson(r: BenchResult): string {
  return JSON.stringify(
    {
      command: r.command,
      sections: r.sections.map((s) => ({ title: s.title ?? null, ...statsJson(s.stats) })),
      extra: r.extra,
      generator: r.generator,
      servers: r.servers,
      aborted: r.aborted,
    },
    null,
    2,
  );
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`Error: ${e.message}\nRun 'tsetcd-bench --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
  if ('help' in parsed) {
    process.stdout.write(parsed.help);
    return 0;
  }
  const cfg = parsed.config;
  const runner = new BenchRunner(cfg, progressBar(!cfg.global.json && process.stderr.isTTY === true), os.cpus().length);
  let exitCode = 0;
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ninterrupted: finishing the requests in flight (Ctrl-C again to quit now)\n');
      exitCode = 130;
      runner.abort();
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deadline = setTimeout(() => {
    process.stderr.write(`\ndeadline of ${cfg.global.deadlineSeconds} s passed: stopping\n`);
    exitCode = 3;
    runner.abort();
    // Last resort if requests in flight do not end.
    setTimeout(() => process.exit(3), cfg.global.requestTimeoutMs + 30_000).unref();
  }, cfg.global.deadlineSeconds * 1000);
  deadline.unref();
  try {
    const r = await runner.run();
    process.stdout.write(cfg.global.json ? `${formatJson(r)}\n` : formatText(r, cfg.global.precise));
    // Stricter than etcd's tool, for scripts: a run in which nothing succeeded is a failure.
    if (exitCode === 0 && r.sections.every((sec) => sec.stats.lats.length === 0)) exitCode = 1;
  } finally {
    clearTimeout(deadline);
    await runner.close();
  }
  return exitCode;
}

/** Run as a program (also through the bin symlink), not when imported by a test. */
function isMain(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(path.resolve(arg)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
