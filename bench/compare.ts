/**
 * tsetcd against a real etcd, side by side on one machine, with the same load generator
 * (tsetcd-bench, etcd benchmark's workloads) and etcd's own `etcdctl check perf`. Prints figures
 * (a markdown table of ops/s and p50/p99 with the ratio tsetcd/etcd); never a test.
 *
 *   npm run bench:compare -- [--size 1|3] [--rounds 1] [--quick] [--cpu-prof] [--only put,range-l,watch-latency]
 *        [--check-perf s,m,l] [--workers N] [--etcd /usr/bin/etcd] [--keep] [--generator tsetcd-bench|etcd-benchmark]
 *
 * - Starts a real etcd (Debian's /usr/bin/etcd; installed with apt-get when missing) and a
 *   tsetcd cluster of the same size on free 127.0.0.1 ports, fsync on (both defaults),
 *   heartbeat 100 ms, election 1000 ms; one system at a time, a fresh cluster for every
 *   (system, round), in the order tsetcd, etcd, tsetcd, etcd, ... (`--rounds` pairs), so a
 *   drifting machine hits both.
 * - Runs every row against it: `tsetcd-bench` as a child process with --json, endpoints leader
 *   first, and --server-pids of the members, so the report has the servers' CPU and the
 *   generator's own CPU and busiest event loop beside each figure; then `etcdctl check perf`.
 *   `--generator etcd-benchmark` drives the same rows (not the watch rows yet) with etcd's own
 *   tools/benchmark instead, built from Debian's packages by bench/etcd-benchmark/build.sh.
 * - Writes results/compare-<timestamp>.md and .html (uPlot charts, inlined: the page works
 *   offline). With --cpu-prof the tsetcd members run under `node --cpu-prof`, their profiles go
 *   to results/compare-<timestamp>-cpu-prof/, and each member's top self-time functions are
 *   printed at the end.
 * - Stops only what it started, by PID — the members and the running tsetcd-bench or etcdctl —
 *   also on Ctrl-C, on error and at the overall deadline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../src/client/index.js';
import { describeProfiles } from './common/cpu-profile.js';
import { pidCpuSeconds } from './common/proc.js';
import { f0, f2, median, ratio } from './common/stats.js';
import { ELECTION_MS, HEARTBEAT_MS, errText, killMembersNow, leaderFirst, readEtcdVersion, sleep, startSystem, type RunningSystem, type SystemMember, type SystemName } from './common/systems.js';
import { guardRun } from './common/guard.js';
import { etcdBenchmarkBinary, runEtcdBenchmarkRow } from './etcd-benchmark/run.js';
import { benchArgs } from './common/args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const EXT = path.extname(fileURLToPath(import.meta.url));
const BENCH_CLI = path.join(HERE, 'tsetcd-bench', `cli${EXT}`);
const SYSTEMS: readonly SystemName[] = ['tsetcd', 'etcd'];
const RANGE_KEY = 'foo';

// ---------------------------------------------------------------------------------------------
// Rows.

interface Row {
  readonly id: string;
  readonly label: string;
  /** tsetcd-bench arguments (after the common ones), or the check perf load. */
  readonly run: { readonly bench: string[]; readonly section: number } | { readonly checkPerf: 's' | 'm' | 'l' | 'xl' };
}

function rows(opt: Options): Row[] {
  const n = (full: number, quick: number): string => String(opt.quick ? quick : full);
  const put = ['--key-size=8', '--val-size=256', '--sequential-keys', '--key-space-size=100000'];
  const all: Row[] = [
    { id: 'put-1', label: 'put, 1 client', run: { bench: ['--clients=1', '--conns=1', 'put', ...put, `--total=${n(2000, 100)}`], section: 0 } },
    { id: 'put-100', label: 'put, 100 clients', run: { bench: ['--clients=100', '--conns=10', 'put', ...put, `--total=${n(20000, 1000)}`], section: 0 } },
    { id: 'put-1000', label: 'put, 1000 clients', run: { bench: ['--clients=1000', '--conns=100', 'put', ...put, `--total=${n(40000, 2000)}`], section: 0 } },
    { id: 'range-l-1', label: 'range linearizable, 1 client', run: { bench: ['--clients=1', '--conns=1', 'range', RANGE_KEY, '--consistency=l', `--total=${n(5000, 200)}`], section: 0 } },
    { id: 'range-l-1000', label: 'range linearizable, 1000 clients', run: { bench: ['--clients=1000', '--conns=100', 'range', RANGE_KEY, '--consistency=l', `--total=${n(50000, 2000)}`], section: 0 } },
    { id: 'range-s-1', label: 'range serializable, 1 client', run: { bench: ['--clients=1', '--conns=1', 'range', RANGE_KEY, '--consistency=s', `--total=${n(5000, 200)}`], section: 0 } },
    { id: 'range-s-1000', label: 'range serializable, 1000 clients', run: { bench: ['--clients=1000', '--conns=100', 'range', RANGE_KEY, '--consistency=s', `--total=${n(50000, 2000)}`], section: 0 } },
    { id: 'txn-put-100', label: 'txn-put, 100 clients', run: { bench: ['--clients=100', '--conns=10', 'txn-put', '--key-size=8', '--val-size=256', '--key-space-size=100000', `--total=${n(20000, 1000)}`], section: 0 } },
    { id: 'lease-keepalive-100', label: 'lease-keepalive, 100 clients', run: { bench: ['--clients=100', '--conns=10', 'lease-keepalive', `--total=${n(50000, 2000)}`], section: 0 } },
    {
      id: 'watch',
      label: 'watch events, 1000 watchers / 10 keys',
      run: {
        bench: ['--clients=10', '--conns=10', 'watch', '--streams=10', '--watch-per-stream=100', '--watched-key-total=10', '--key-space-size=10', '--sequential-keys', `--put-total=${n(2000, 200)}`, '--put-rate=500'],
        section: 1,
      },
    },
    {
      id: 'watch-latency',
      label: 'watch-latency, 100 watchers, 100 puts/s',
      run: { bench: ['--clients=10', '--conns=10', 'watch-latency', `--put-total=${n(1000, 100)}`, '--put-rate=100', '--streams=10', '--watchers-per-stream=10'], section: 1 },
    },
  ];
  for (const load of opt.checkPerf) all.push({ id: `check-perf-${load}`, label: `etcdctl check perf --load=${load}`, run: { checkPerf: load } });
    // A name picks its row and the rows under it: "put" = put-1, put-100, put-1000; "put-1" = put-1 only.
  return opt.only.length === 0 ? all : all.filter((r) => opt.only.some((p) => r.id === p || r.id.startsWith(`${p}-`)));
}

// ---------------------------------------------------------------------------------------------
// Options.

interface Options {
  size: 1 | 3;
  rounds: number;
  quick: boolean;
  cpuProf: boolean;
  only: string[];
  checkPerf: ('s' | 'm' | 'l' | 'xl')[];
  workers: number;
  etcd: string;
  etcdctl: string;
  keep: boolean;
  /** Who drives the rows: ours, or etcd's tools/benchmark (bench/etcd-benchmark). */
  generator: 'tsetcd-bench' | 'etcd-benchmark';
}

function parseOptions(): Options {
  const values = benchArgs(import.meta.url, {
    size: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    quick: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    'check-perf': { type: 'string' },
    workers: { type: 'string', default: String(os.cpus().length) },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
    etcdctl: { type: 'string', default: '/usr/bin/etcdctl' },
    keep: { type: 'boolean', default: false },
    generator: { type: 'string', default: 'tsetcd-bench' },
  });
  if (values.generator !== 'tsetcd-bench' && values.generator !== 'etcd-benchmark') throw new Error(`--generator is tsetcd-bench or etcd-benchmark, got ${values.generator}`);
  const int = (name: string, v: string, min: number, max: number): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min || x > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
    return x;
  };
  const size = int('size', values.size, 1, 3);
  if (size !== 1 && size !== 3) throw new Error('--size must be 1 or 3');
  const quick = values.quick;
  // check perf always runs for a minute per load; --quick leaves it out unless asked for.
  const checkPerf = (values['check-perf'] ?? (quick ? '' : 's,m,l'))
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  for (const l of checkPerf) if (!['s', 'm', 'l', 'xl'].includes(l)) throw new Error(`--check-perf loads are s, m, l, xl; got ${l}`);
  return {
    size,
    rounds: int('rounds', values.rounds, 1, 20),
    quick,
    cpuProf: values['cpu-prof'],
    only: values.only
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
    checkPerf: checkPerf as Options['checkPerf'],
    workers: int('workers', values.workers, 1, 64),
    etcd: values.etcd,
    etcdctl: values.etcdctl,
    keep: values.keep,
    generator: values.generator,
  };
}

// ---------------------------------------------------------------------------------------------
// Running one row.

interface Measure {
  system: SystemName;
  round: number;
  row: string;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  serverCpu: number;
  genCpu: number;
  genElu: number;
  load1: number;
  note: string;
}

/** The child this program is waiting for (tsetcd-bench or etcdctl), to stop by PID on exit. */
let currentChild: ChildProcess | undefined;

function runChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    currentChild = child;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('error', reject);
    const t = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      currentChild = undefined;
      resolve({ code, stdout, stderr });
    });
  });
}

interface BenchJson {
  sections: { count: number; errorCount: number; requestsPerSec: number; percentiles: Record<string, number> }[];
  generator: { cpuPct: number; busiestElu: number };
  servers: { pid: number; cpuPct: number }[];
}

/** Upper bound of a row's run time, for the child's --deadline. */
const ROW_DEADLINE_S = 600;

async function runBenchRow(row: Row & { run: { bench: string[]; section: number } }, members: SystemMember[], opt: Options): Promise<Omit<Measure, 'system' | 'round' | 'row' | 'load1'>> {
  const args = [
    ...(EXT === '.ts' ? ['--import', 'tsx'] : []),
    BENCH_CLI,
    `--endpoints=${members.map((m) => m.endpoint).join(',')}`,
    `--server-pids=${members.map((m) => m.pid).join(',')}`,
    `--workers=${opt.workers}`,
    `--deadline=${ROW_DEADLINE_S}`,
    '--json',
    ...row.run.bench,
  ];
  const r = await runChild(process.execPath, args, process.env, (ROW_DEADLINE_S + 90) * 1000);
  if (r.code !== 0) throw new Error(`tsetcd-bench exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const j = JSON.parse(r.stdout) as BenchJson;
  const s = j.sections[row.run.section];
  if (!s) throw new Error(`tsetcd-bench printed no section ${row.run.section}`);
  return {
    opsPerSec: s.requestsPerSec,
    p50ms: (s.percentiles['p50'] ?? NaN) * 1000,
    p99ms: (s.percentiles['p99'] ?? NaN) * 1000,
    errors: s.errorCount,
    serverCpu: j.servers.reduce((a, x) => a + x.cpuPct, 0),
    genCpu: j.generator.cpuPct,
    genElu: j.generator.busiestElu,
    note: j.generator.busiestElu > 85 ? 'generator event loop > 85% busy' : '',
  };
}

let etcdBenchmark: string | undefined;

/** A row through the chosen generator. etcd's tool has no watch figures we parse yet. */
async function benchRow(row: Row & { run: { bench: string[]; section: number } }, members: SystemMember[], opt: Options): Promise<Omit<Measure, 'system' | 'round' | 'row' | 'load1'>> {
  if (opt.generator === 'tsetcd-bench') return runBenchRow(row, members, opt);
  if (row.run.section !== 0) throw new Error('watch rows run only with --generator tsetcd-bench');
  etcdBenchmark ??= etcdBenchmarkBinary();
  const r = await runEtcdBenchmarkRow(etcdBenchmark, row.run.bench, members.map((m) => m.endpoint), members.map((m) => m.pid), ROW_DEADLINE_S * 1000, (c) => (currentChild = c));
  return { ...r, genCpu: NaN, genElu: NaN, note: 'etcd benchmark' };
}

async function runCheckPerf(load: string, members: SystemMember[], opt: Options): Promise<Omit<Measure, 'system' | 'round' | 'row' | 'load1'>> {
  const pids = members.map((m) => m.pid);
  const t0 = performance.now();
  const cpu0 = pids.map(pidCpuSeconds);
  const r = await runChild(opt.etcdctl, [`--endpoints=${members.map((m) => m.endpoint).join(',')}`, 'check', 'perf', `--load=${load}`], { ...process.env, ETCDCTL_API: '3' }, 180_000);
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = pids.reduce((a, pid, i) => a + (100 * (pidCpuSeconds(pid) - (cpu0[i] ?? NaN))) / wall, 0);
  const out = r.stdout + r.stderr;
  const throughput = /Throughput is (\d+(?:\.\d+)?) writes\/s/.exec(out)?.[1];
  const slowest = /Slowest request took (\d+(?:\.\d+)?)s/.exec(out)?.[1];
  const verdict = /^(PASS|FAIL)\s*$/m.exec(out)?.[1];
  if (throughput === undefined) throw new Error(`etcdctl check perf exited ${r.code} without a throughput: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  return {
    opsPerSec: Number(throughput),
    p50ms: NaN,
    p99ms: NaN,
    errors: 0,
    serverCpu,
    genCpu: NaN,
    genElu: NaN,
    note: `${verdict ?? '?'}; slowest ${slowest !== undefined ? `${(Number(slowest) * 1000).toFixed(1)} ms` : '?'}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Reports.

interface Cell {
  ops: number;
  p50: number;
  p99: number;
}

function cells(rowsRun: Row[], measures: Measure[]): { row: Row; t: Cell; e: Cell }[] {
  const cell = (sys: SystemName, row: string): Cell => {
    const ms = measures.filter((m) => m.system === sys && m.row === row);
    return { ops: median(ms.map((m) => m.opsPerSec)), p50: median(ms.map((m) => m.p50ms)), p99: median(ms.map((m) => m.p99ms)) };
  };
  return rowsRun.map((row) => ({ row, t: cell('tsetcd', row.id), e: cell('etcd', row.id) }));
}

function renderMarkdown(opt: Options, rowsRun: Row[], measures: Measure[], info: RunInfo): string {
  const cpus = os.cpus();
  const lines: string[] = [];
  lines.push(`# tsetcd vs etcd ${info.etcdVersion ?? '?'}: ${opt.size} member(s) each, same machine, same load generator`);
  lines.push('');
  lines.push(
    `${info.startedAt} — ${cpus.length} x ${cpus[0]?.model ?? '?'}, Node ${process.version}; load average (1 min) ${info.loadBefore.toFixed(2)} before, ${os.loadavg()[0]?.toFixed(2)} after. ` +
      `fsync on (both defaults), heartbeat ${HEARTBEAT_MS} ms, election ${ELECTION_MS} ms, loopback; a fresh cluster per (system, round), systems alternating tsetcd, etcd for ${opt.rounds} round(s)${opt.quick ? '; --quick (short rows)' : ''}. ` +
      opt.generator === 'tsetcd-bench'
        ? `Load: tsetcd-bench with ${opt.workers} worker thread(s), endpoints leader first; figures are medians over rounds.`
        : 'Load: etcd 3.4\'s own tools/benchmark (Go clientv3, `--precise`; built by bench/etcd-benchmark/build.sh from Debian\'s packages), endpoints leader first; figures are medians over rounds.',
  );
  lines.push('');
  lines.push('ops/s: requests (watch rows: events) per second over the whole row; p50/p99 per request (watch rows: put send to event receipt). ratio = tsetcd/etcd: above 1 is more ops/s or longer latency for tsetcd.');
  lines.push('');
  lines.push('| workload | tsetcd ops/s | etcd ops/s | ops/s ratio | tsetcd p50 ms | etcd p50 ms | p50 ratio | tsetcd p99 ms | etcd p99 ms | p99 ratio |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { row, t, e } of cells(rowsRun, measures)) {
    lines.push(`| ${row.label} | ${f0(t.ops)} | ${f0(e.ops)} | ${ratio(t.ops, e.ops)} | ${f2(t.p50)} | ${f2(e.p50)} | ${ratio(t.p50, e.p50)} | ${f2(t.p99)} | ${f2(e.p99)} | ${ratio(t.p99, e.p99)} |`);
  }
  const saturated = measures.filter((m) => m.genElu > 85);
  if (saturated.length > 0) {
    lines.push('');
    lines.push(
      `**The generator may be the limit** (busiest worker's event loop > 85% busy) in: ${saturated.map((m) => `${m.system}/r${m.round}/${m.row}`).join(', ')}. ` +
        'There the figure says as much about tsetcd-bench as about the server, and a ratio against a saturated run is understated for the faster system.',
    );
  }
  lines.push('');
  lines.push('## Every run');
  lines.push('');
  lines.push('CPU % is of one core over the row: server = sum over the members (/proc/<pid>/stat); gen = tsetcd-bench, all threads; gen ELU = its busiest worker\'s event loop (near 100% = the generator was the limit). load1 = the machine\'s 1-minute load average when the row ended (others\' work included).');
  lines.push('');
  lines.push('| system | round | workload | ops/s | p50 ms | p99 ms | errors | server CPU % | gen CPU % | gen ELU % | load1 | note |');
  lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const m of measures) {
    const label = rowsRun.find((r) => r.id === m.row)?.label ?? m.row;
    lines.push(`| ${m.system} | ${m.round} | ${label} | ${f0(m.opsPerSec)} | ${f2(m.p50ms)} | ${f2(m.p99ms)} | ${m.errors} | ${f0(m.serverCpu)} | ${f0(m.genCpu)} | ${f0(m.genElu)} | ${m.load1.toFixed(2)} | ${m.note} |`);
  }
  lines.push('');
  lines.push('## Commands');
  lines.push('');
  lines.push(
    opt.generator === 'tsetcd-bench'
      ? 'Each row, against each system (`--endpoints` = the members leader first, `--server-pids` = their PIDs):'
      : 'Each row, against each system (`--endpoints` = the members leader first; the members\' CPU read from /proc):',
  );
  lines.push('');
  for (const r of rowsRun) {
    const tool = opt.generator === 'tsetcd-bench' ? `tsetcd-bench --workers=${opt.workers}` : 'benchmark --precise';
    lines.push('run' in r && 'bench' in r.run ? `- ${r.label}: \`${tool} ${r.run.bench.join(' ')}\`` : `- ${r.label}`);
  }
  lines.push('');
  return lines.join('\n');
}

function renderHtml(opt: Options, rowsRun: Row[], measures: Measure[], markdown: string): string {
  const dist = path.join(path.dirname(fileURLToPath(import.meta.resolve('uplot'))), '..', 'dist');
  const js = readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8');
  const cs = cells(rowsRun, measures);
  const num = (x: number): number | null => (Number.isFinite(x) && x > 0 ? x : null);
  const data = {
    labels: cs.map((c) => c.row.label),
    tOps: cs.map((c) => num(c.t.ops)),
    eOps: cs.map((c) => num(c.e.ops)),
    tP99: cs.map((c) => num(c.t.p99)),
    eP99: cs.map((c) => num(c.e.p99)),
    opsRatio: cs.map((c) => num(c.t.ops / c.e.ops)),
    p99Ratio: cs.map((c) => num(c.t.p99 / c.e.p99)),
  };
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // The data is JSON inside a script: no "</" may end the script early.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>tsetcd vs etcd (${opt.size} member(s))</title>
<style>${css}
body { font: 14px system-ui, sans-serif; margin: 24px; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; font-size: 12px; }
.chart { margin: 24px 0; }
</style></head><body>
<h1>tsetcd vs etcd, ${opt.size} member(s)</h1>
<div id="ops" class="chart"></div>
<div id="p99" class="chart"></div>
<div id="ratio" class="chart"></div>
<h2>Report</h2>
<pre>${esc(markdown)}</pre>
<script>${js}</script>
<script>
const D = ${json};
const xs = D.labels.map((_, i) => i);
const width = Math.min(1200, window.innerWidth - 48);
function chart(id, title, unit, series, log) {
  const bars = (align) => uPlot.paths.bars({ size: [0.35, 80], align });
  const opts = {
    title, width, height: 360,
    scales: { x: { time: false, range: [-0.6, xs.length - 0.4] }, y: log ? { distr: 3 } : {} },
    axes: [
      { values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? (D.labels[i] || '') : '')), rotate: -20, size: 90, space: 10, incrs: [1] },
      { label: unit, size: 70 },
    ],
    series: [{}, ...series.map((s, k) => ({ label: s.label, stroke: s.color, fill: s.color + '99', paths: bars(series.length === 1 ? 0 : (k === 0 ? -1 : 1)), points: { show: false } }))],
  };
  new uPlot(opts, [xs, ...series.map((s) => s.data)], document.getElementById(id));
}
chart('ops', 'ops/s (log scale)', 'ops/s', [{ label: 'tsetcd', color: '#1f77b4', data: D.tOps }, { label: 'etcd', color: '#ff7f0e', data: D.eOps }], true);
chart('p99', 'p99 latency, ms (log scale)', 'ms', [{ label: 'tsetcd', color: '#1f77b4', data: D.tP99 }, { label: 'etcd', color: '#ff7f0e', data: D.eP99 }], true);
chart('ratio', 'tsetcd / etcd (log scale; ops/s above 1 and p99 below 1 favour tsetcd)', 'ratio', [{ label: 'ops/s ratio', color: '#2ca02c', data: D.opsRatio }, { label: 'p99 ratio', color: '#d62728', data: D.p99Ratio }], true);
</script>
</body></html>
`;
}

// ---------------------------------------------------------------------------------------------
// Main.

interface RunInfo {
  startedAt: string;
  loadBefore: number;
  etcdVersion: string | undefined;
}

function ensureEtcd(opt: Options): void {
  if (existsSync(opt.etcd) && existsSync(opt.etcdctl)) return;
  console.error(`no etcd at ${opt.etcd} or no etcdctl at ${opt.etcdctl}: apt-get install -y etcd-server etcd-client`);
  const r = spawnSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], { stdio: 'inherit', timeout: 600_000 });
  if (r.status !== 0 || !existsSync(opt.etcd)) throw new Error(`could not install etcd (apt-get exited ${r.status})`);
}

async function putRangeKey(members: SystemMember[]): Promise<void> {
  const c = new EtcdClient({ endpoints: [members[0]?.endpoint ?? ''], timeoutMs: 5000 });
  try {
    await c.put({ key: RANGE_KEY, value: Buffer.alloc(256, 'v') });
  } finally {
    c.close();
  }
}

async function main(): Promise<void> {
  const opt = parseOptions();
  ensureEtcd(opt);
  const rowsRun = rows(opt);
  if (rowsRun.length === 0) throw new Error(`--only ${opt.only.join(',')} matches no row`);
  const info: RunInfo = { startedAt: new Date().toISOString(), loadBefore: os.loadavg()[0] ?? NaN, etcdVersion: await readEtcdVersion(opt.etcd).catch(() => undefined) };
  const stamp = info.startedAt.replace(/[:.]/g, '-');
  const resultsDir = path.join(HERE, '..', 'results');
  await mkdir(resultsDir, { recursive: true });
  const profDir = path.join(resultsDir, `compare-${stamp}-cpu-prof`);
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'bench-compare-'));

  // Overall deadline: a generous bound per row and per cluster start.
  const perRowS = opt.quick ? 120 : ROW_DEADLINE_S;
  const budgetMs = 60_000 + opt.rounds * SYSTEMS.length * (120_000 + rowsRun.length * (perRowS + 90) * 1000);
  let running: RunningSystem | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      const child = currentChild;
      if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      await running?.stop().catch(() => undefined);
      running = undefined;
      if (!opt.keep) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
      else console.error(`data and logs kept in ${baseDir}`);
    })();
    return cleaning;
  };
  process.on('exit', () => {
    killMembersNow(running?.members ?? []);
    const child = currentChild;
    if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });
  const disarm = guardRun(cleanup, budgetMs);

  const measures: Measure[] = [];
  // Per profile directory (round): how long the members ran before the first row, left out of the profile's figures.
  const startupMs = new Map<string, number>();
  try {
    for (let round = 1; round <= opt.rounds; round++) {
      for (const system of SYSTEMS) {
        const dir = path.join(baseDir, `${system}-${round}`);
        const nodeArgs = opt.cpuProf && system === 'tsetcd' ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profDir, `round-${round}`)}`] : [];
        const timing = ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS)];
        const startedAt = Date.now();
        running = await startSystem(system, { size: opt.size, dir, flags: timing, nodeArgs, etcdBin: opt.etcd });
        const members = await leaderFirst(running.members, 90_000);
        await putRangeKey(members);
        if (system === 'tsetcd') startupMs.set(`round-${round}`, Date.now() - startedAt);
        console.error(`${system} round ${round}: ${members.length} member(s) up, leader ${members[0]?.name} (pid ${members[0]?.pid})`);
        for (const row of rowsRun) {
          let m: Omit<Measure, 'system' | 'round' | 'row' | 'load1'>;
          try {
            m = 'bench' in row.run ? await benchRow({ ...row, run: row.run }, members, opt) : await runCheckPerf(row.run.checkPerf, members, opt);
          } catch (e) {
            m = { opsPerSec: NaN, p50ms: NaN, p99ms: NaN, errors: NaN, serverCpu: NaN, genCpu: NaN, genElu: NaN, note: `failed: ${errText(e).slice(0, 300)}` };
          }
          const measure: Measure = { system, round, row: row.id, load1: os.loadavg()[0] ?? NaN, ...m };
          measures.push(measure);
          console.error(
            `  ${row.label}: ${f0(measure.opsPerSec)} ops/s, p50 ${f2(measure.p50ms)} ms, p99 ${f2(measure.p99ms)} ms, server CPU ${f0(measure.serverCpu)}%, gen CPU ${f0(measure.genCpu)}% (ELU ${f0(measure.genElu)}%)${measure.errors ? `, ${measure.errors} errors` : ''}${measure.note ? `; ${measure.note}` : ''}`,
          );
          await sleep(500);
        }
        await running.stop();
        running = undefined;
      }
    }
    const md = renderMarkdown(opt, rowsRun, measures, info);
    console.log(md);
    const mdFile = path.join(resultsDir, `compare-${stamp}.md`);
    const htmlFile = path.join(resultsDir, `compare-${stamp}.html`);
    await writeFile(mdFile, md);
    await writeFile(htmlFile, renderHtml(opt, rowsRun, measures, md));
    console.error(`written to ${path.relative(process.cwd(), mdFile)} and ${path.relative(process.cwd(), htmlFile)}`);
    if (opt.cpuProf) {
      for (const d of (await readdir(profDir).catch(() => [] as string[])).sort()) {
        const skipMs = startupMs.get(d) ?? 0;
        console.log(`\n## CPU profile of the tsetcd members, ${d}: top self time after start-up (${f0(skipMs)} ms left out)`);
        console.log(await describeProfiles(path.join(profDir, d), 15, skipMs));
      }
    }
  } finally {
    disarm();
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
