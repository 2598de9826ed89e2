/**
 * Lease keep-alive throughput: a tsetcd cluster beside a real etcd 3.4 cluster of the same size
 * on the same machine, the same client (src/client) and load. Prints figures (a markdown
 * table); never a test.
 *
 *   npm run bench:lease -- [--size 3] [--clients 100] [--seconds 10] [--warmup 2] [--rounds 1]
 *        [--workers 2] [--ttl 60] [--systems tsetcd,etcd] [--etcd /usr/bin/etcd] [--keep]
 *
 * As etcd's `benchmark lease-keepalive`: each of C clients grants its own lease, opens its own
 * LeaseKeepAlive stream and sends keep-alives back to back (the next once the previous is
 * answered). Client i talks to endpoint i mod size, endpoints ordered leader first, so both
 * systems put the same number of clients on their leader (followers forward keep-alives to it).
 * Each generator worker thread holds one connection per endpoint; clients are dealt to workers
 * round-robin.
 *
 * Per run (tsetcd, etcd, tsetcd, etcd, ... for `--rounds` pairs; a fresh cluster each run):
 * keep-alives/s answered inside the measured window (after `--warmup` s), p50/p99 latency, the
 * servers' CPU from /proc/<pid>/stat (sum over members, and per member leader first), the
 * generator's CPU (process.cpuUsage(), all threads) and its busiest worker thread's CPU and
 * event-loop utilisation (near 100% = the generator is the limit). Writes the table to
 * results/lease-keepalive-<timestamp>.md too. Stops only what it started, by PID, also on Ctrl-C,
 * on error and at the overall deadline, and removes its temporary directories.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort } from 'node:worker_threads';
import { ClientError, EtcdClient, type LeaseKeepAliveStream } from '../src/client/index.js';
import { cpuSeconds, machineBusySeconds, threadCpuSeconds } from './common/proc.js';
import { cpuPerOp, f0, f2, median, percentile, ratio } from './common/stats.js';
import {
  ELECTION_MS,
  HEARTBEAT_MS,
  errText,
  killMembersNow,
  leaderFirst,
  readEtcdVersion,
  sleep,
  startSystem,
  type RunningSystem,
  type SystemName,
} from './common/systems.js';
import { WorkerPool } from './common/workers.js';
import { guardRun } from './common/guard.js';
import { writeResults } from './common/results.js';
import { benchArgs } from './common/args.js';

let etcdVersionCache: string | undefined;

// ---------------------------------------------------------------------------------------------
// Worker side.

interface RunOrder {
  type: 'run';
  id: number;
  /** Endpoints, leader first. */
  endpoints: string[];
  /** Global client indices (client i uses endpoint i mod endpoints.length). */
  clients: number[];
  ttlSeconds: number;
  /** Epoch ms: start, start measuring, stop. */
  startAt: number;
  measureFrom: number;
  measureTo: number;
  timeoutMs: number;
}

interface RunResult {
  type: 'result';
  id: number;
  latenciesMs: Float64Array<ArrayBuffer>;
  errors: number;
  errorSamples: string[];
  elu: number;
  threadCpu: number;
}

function workerMain(): void {
  const port = parentPort;
  if (!port) throw new Error('no parentPort');
  port.on('message', (m: RunOrder | { type: 'close' }) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    run(m).then(
      (r) => port.postMessage(r, [r.latenciesMs.buffer]),
      (e: unknown) => port.postMessage({ type: 'fatal', id: m.id, error: errText(e) }),
    );
  });
  port.postMessage({ type: 'ready' });
}

async function run(o: RunOrder): Promise<RunResult> {
  // One connection per endpoint for this worker's clients, as etcd's benchmark shares conns.
  const clients = o.endpoints.map((ep) => new EtcdClient({ endpoints: [ep], timeoutMs: o.timeoutMs }));
  const lat: number[] = [];
  let errors = 0;
  const samples = new Set<string>();
  let elu0 = performance.eventLoopUtilization();
  let cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
  let elu: number | undefined;
  let threadCpu = NaN;
  const endWindow = (): void => {
    if (elu !== undefined) return;
    elu = performance.eventLoopUtilization(elu0).utilization;
    threadCpu = (100 * (threadCpuSeconds() - cpu0.sec)) / ((performance.now() - cpu0.at) / 1000);
  };
  const t1 = setTimeout(() => {
    elu0 = performance.eventLoopUtilization();
    cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
  }, Math.max(0, o.measureFrom - Date.now()));
  const t2 = setTimeout(endWindow, Math.max(0, o.measureTo - Date.now()));
  const fail = (e: unknown): void => {
    const now = Date.now();
    if (now >= o.measureFrom && now <= o.measureTo) errors++;
    if (samples.size < 5) samples.add(errText(e));
  };

  // Grant every lease and open every stream before the start, so the window measures keep-alives only.
  const prepared = await Promise.all(
    o.clients.map(async (ci) => {
      const c = clients[ci % clients.length] as EtcdClient;
      try {
        const g = await c.leaseGrant(o.ttlSeconds);
        return { id: g.id, client: c, stream: c.leaseKeepAlive() };
      } catch (e) {
        fail(e);
        return undefined;
      }
    }),
  );
  await sleep(Math.max(0, o.startAt - Date.now()));

  const one = async (p: { id: bigint; client: EtcdClient; stream: LeaseKeepAliveStream }): Promise<void> => {
    let stream = p.stream;
    // Bounded: stops at measureTo; every send has its own deadline.
    while (Date.now() < o.measureTo) {
      const t0 = performance.now();
      try {
        const r = await stream.send(p.id);
        const ms = performance.now() - t0;
        const now = Date.now();
        if (r.ttl <= 0) throw new Error(`lease ${p.id} is gone (TTL ${r.ttl})`);
        if (now >= o.measureFrom && now <= o.measureTo) lat.push(ms);
      } catch (e) {
        fail(e);
        await sleep(10); // no hot loop on a failing endpoint
        if (e instanceof ClientError) {
          // The stream is broken for good once it failed: open a new one (not a retry of the send).
          stream.close();
          stream = p.client.leaseKeepAlive();
        }
      }
    }
    stream.close();
  };
  await Promise.all(prepared.filter((p) => p !== undefined).map(one));
  clearTimeout(t1);
  clearTimeout(t2);
  endWindow();
  await Promise.all(prepared.map((p) => (p ? p.client.leaseRevoke(p.id).catch(() => undefined) : undefined)));
  for (const c of clients) c.close();
  return { type: 'result', id: o.id, latenciesMs: Float64Array.from(lat), errors, errorSamples: [...samples], elu: elu ?? NaN, threadCpu };
}

// ---------------------------------------------------------------------------------------------
// Main side.

interface Options {
  size: 1 | 3;
  clients: number;
  seconds: number;
  warmup: number;
  rounds: number;
  workers: number;
  ttl: number;
  systems: SystemName[];
  etcd: string;
  keep: boolean;
  timeoutMs: number;
}

function parseOptions(): Options {
  const values = benchArgs(import.meta.url, {
    size: { type: 'string', default: '3' },
    clients: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '1' },
    workers: { type: 'string', default: '2' },
    ttl: { type: 'string', default: '60' },
    systems: { type: 'string', default: 'tsetcd,etcd' },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
    keep: { type: 'boolean', default: false },
    'request-timeout': { type: 'string', default: '5' },
  });
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
    return n;
  };
  const size = int('size', values.size, 1, 3);
  if (size !== 1 && size !== 3) throw new Error('--size must be 1 or 3');
  const systems = values.systems.split(',').map((s) => s.trim());
  for (const s of systems) if (s !== 'tsetcd' && s !== 'etcd') throw new Error(`unknown system ${s} (tsetcd, etcd)`);
  return {
    size,
    clients: int('clients', values.clients, 1, 10_000),
    seconds: int('seconds', values.seconds, 1, 600),
    warmup: int('warmup', values.warmup, 0, 60),
    rounds: int('rounds', values.rounds, 1, 20),
    workers: int('workers', values.workers, 1, 32),
    ttl: int('ttl', values.ttl, 5, 3600),
    systems: systems as SystemName[],
    etcd: values.etcd,
    keep: values.keep,
    timeoutMs: int('request-timeout', values['request-timeout'], 1, 120) * 1000,
  };
}

type Order = Omit<RunOrder, 'id'> | { type: 'close' };
type Pool = WorkerPool<Order, RunResult | { type: 'fatal'; id: number; error: string }>;

/** Deals clients 0..total-1 round-robin to the workers and runs each share on its worker. */
function runShares(pool: Pool, order: Omit<RunOrder, 'type' | 'id' | 'clients'>, totalClients: number, timeoutMs: number): Promise<RunResult[]> {
  const shares: number[][] = Array.from({ length: pool.size }, () => []);
  for (let c = 0; c < totalClients; c++) shares[c % pool.size]?.push(c);
  return Promise.all(shares.flatMap((share, w) => (share.length === 0 ? [] : [pool.call<RunResult>(w, { ...order, type: 'run', clients: share }, timeoutMs)])));
}

interface RunRow {
  system: SystemName;
  round: number;
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  serverCpu: number;
  memberCpu: number[];
  genCpu: number;
  genThreadCpu: number;
  genElu: number;
  /** The rest of the machine: /proc/stat busy minus server and generator (other people's work). */
  othersCpu: number;
  errors: number;
  errorSamples: string[];
}

async function runOne(system: SystemName, round: number, opt: Options, pool: Pool, baseDir: string, track: (r: RunningSystem | undefined) => void): Promise<RunRow> {
  const dir = path.join(baseDir, `${system}-${round}`);
  const timing = ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS)];
  const sys = await startSystem(system, { size: opt.size, dir, flags: timing, etcdBin: opt.etcd });
  track(sys);
  try {
    const members = await leaderFirst(sys.members, 90_000);
    const startAt = Date.now() + 2000 + opt.clients * 5; // time to grant leases and open streams
    const measureFrom = startAt + opt.warmup * 1000;
    const measureTo = measureFrom + opt.seconds * 1000;
    const sample = (): { at: number; proc: number[]; gen: NodeJS.CpuUsage; machine: number } => ({
      at: performance.now(),
      proc: members.map((m) => cpuSeconds(`/proc/${m.pid}/stat`) ?? NaN),
      gen: process.cpuUsage(),
      machine: machineBusySeconds(),
    });
    let before: ReturnType<typeof sample> | undefined;
    let after: ReturnType<typeof sample> | undefined;
    const t1 = setTimeout(() => (before = sample()), measureFrom - Date.now());
    const t2 = setTimeout(() => (after = sample()), measureTo - Date.now());
    let results: RunResult[];
    try {
      results = await runShares(
        pool,
        { endpoints: members.map((m) => m.endpoint), ttlSeconds: opt.ttl, startAt, measureFrom, measureTo, timeoutMs: opt.timeoutMs },
        opt.clients,
        measureTo - Date.now() + opt.timeoutMs + 30_000,
      );
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
    }
    after ??= sample();
    if (!before) throw new Error('CPU sample missing (run ended before its window?)');
    const wallS = (after.at - before.at) / 1000;
    const pct = (sec: number): number => (100 * sec) / wallS;
    const b = before;
    const memberCpu = after.proc.map((x, i) => pct(x - (b.proc[i] ?? NaN)));
    const lat = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
    let off = 0;
    for (const r of results) {
      lat.set(r.latenciesMs, off);
      off += r.latenciesMs.length;
    }
    lat.sort();
    const row: RunRow = {
      system,
      round,
      ops: lat.length,
      opsPerSec: lat.length / opt.seconds,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      serverCpu: memberCpu.reduce((x, y) => x + y, 0),
      memberCpu,
      genCpu: pct((after.gen.user - b.gen.user + after.gen.system - b.gen.system) / 1e6),
      genThreadCpu: Math.max(...results.map((r) => r.threadCpu)),
      genElu: 100 * Math.max(...results.map((r) => r.elu)),
      othersCpu: 0,
      errors: results.reduce((n, r) => n + r.errors, 0),
      errorSamples: [...new Set(results.flatMap((r) => r.errorSamples))],
    };
    row.othersCpu = pct(after.machine - b.machine) - row.serverCpu - row.genCpu;
    console.error(
      `${system} round ${round}: ${f0(row.opsPerSec)} keep-alives/s p50 ${f2(row.p50)} ms p99 ${f2(row.p99)} ms, server ${f0(row.serverCpu)}% [${memberCpu.map(f0).join('/')}] ` +
        `(${f0(cpuPerOp(row.serverCpu, row.opsPerSec))} µs/keep-alive), gen ${f0(row.genCpu)}% (busiest worker ${f0(row.genThreadCpu)}%, elu ${f0(row.genElu)}%), others ${f0(row.othersCpu)}%` +
        (row.errors ? ` errors ${row.errors}: ${row.errorSamples.join(' | ')}` : ''),
    );
    return row;
  } finally {
    await sys.stop().catch(() => undefined);
    track(undefined);
    if (!opt.keep) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function renderReport(opt: Options, rows: RunRow[]): string {
  const cpus = os.cpus();
  const lines: string[] = [];
  lines.push(`# Lease keep-alives: tsetcd vs etcd 3.4, ${opt.size} member(s) each, same machine`);
  lines.push('');
  lines.push(
    `${new Date().toISOString()} — ${cpus.length} x ${cpus[0]?.model ?? '?'}, Node ${process.version}, etcd ${etcdVersionCache ?? 'unknown'}. ` +
      `${opt.clients} clients, each with its own lease (TTL ${opt.ttl} s) and keep-alive stream, sending back to back; client i on endpoint i mod ${opt.size}, leader first. ` +
      `${opt.workers} generator worker thread(s), one connection per endpoint each. ${opt.seconds} s measured after ${opt.warmup} s warmup; ` +
      `heartbeat ${HEARTBEAT_MS} ms, election ${ELECTION_MS} ms; a fresh cluster per run, runs alternating (${opt.systems.join(', ')}), ${opt.rounds} round(s).`,
  );
  lines.push('');
  lines.push(
    'CPU % is of one core over the measured window: server = sum over members (/proc/<pid>/stat, all threads), members leader first; µs/keep-alive = that CPU per answered keep-alive; ' +
      'gen = this program, all threads; gen thr / ELU = the busiest worker thread (near 100% = the generator is the limit); others = the rest of the machine (/proc/stat busy minus server and generator): noise from other work.',
  );
  lines.push('');
  lines.push('| system | round | keep-alives/s | p50 ms | p99 ms | server CPU % | members CPU % | server µs/keep-alive | gen CPU % | gen thr % | gen ELU % | others CPU % | errors |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    lines.push(
      `| ${r.system} | ${r.round} | ${f0(r.opsPerSec)} | ${f2(r.p50)} | ${f2(r.p99)} | ${f0(r.serverCpu)} | ${r.memberCpu.map(f0).join(' / ')} | ${f0(cpuPerOp(r.serverCpu, r.opsPerSec))} | ` +
        `${f0(r.genCpu)} | ${f0(r.genThreadCpu)} | ${f0(r.genElu)} | ${f0(r.othersCpu)} | ${r.errors} |`,
    );
  }
  if (opt.systems.includes('tsetcd') && opt.systems.includes('etcd')) {
    const med = (sys: SystemName, f: (r: RunRow) => number): number => median(rows.filter((r) => r.system === sys).map(f));
    lines.push('');
    lines.push('## Medians and ratio tsetcd/etcd');
    lines.push('');
    lines.push('| figure | tsetcd | etcd | tsetcd/etcd |');
    lines.push('| --- | ---: | ---: | ---: |');
    const fig = (name: string, f: (r: RunRow) => number, fmt: (x: number) => string): void => {
      const t = med('tsetcd', f);
      const e = med('etcd', f);
      lines.push(`| ${name} | ${fmt(t)} | ${fmt(e)} | ${ratio(t, e)} |`);
    };
    fig('keep-alives/s', (r) => r.opsPerSec, f0);
    fig('latency p50 ms', (r) => r.p50, f2);
    fig('latency p99 ms', (r) => r.p99, f2);
    fig('server CPU %', (r) => r.serverCpu, f0);
    fig('server CPU µs/keep-alive', (r) => cpuPerOp(r.serverCpu, r.opsPerSec), f0);
    fig('generator CPU %', (r) => r.genCpu, f0);
  }
  const errs = rows.filter((r) => r.errorSamples.length > 0);
  if (errs.length > 0) {
    lines.push('');
    lines.push('## Errors');
    lines.push('');
    for (const r of errs) lines.push(`- ${r.system} round ${r.round}: ${r.errors} in window; e.g. ${r.errorSamples.join(' | ')}`);
  }
  const saturated = rows.filter((r) => r.genThreadCpu > 85);
  if (saturated.length > 0) {
    lines.push('');
    lines.push(`**Warning:** a generator worker thread used > 85% of a core in ${saturated.map((r) => `${r.system}/r${r.round}`).join(', ')}: the generator may be the limit there.`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opt = parseOptions();
  if (opt.systems.includes('etcd') && !existsSync(opt.etcd)) throw new Error(`no etcd at ${opt.etcd}`);
  etcdVersionCache = await readEtcdVersion(opt.etcd).catch(() => undefined);
  const runs = opt.rounds * opt.systems.length;
  const perRunMs = 90_000 + (opt.warmup + opt.seconds) * 1000 + opt.clients * 5 + opt.timeoutMs + 45_000;
  const budgetMs = 60_000 + runs * perRunMs;
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'bench-lease-'));

  let running: RunningSystem | undefined;
  let pool: Pool | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await pool?.close({ type: 'close' }).catch(() => undefined);
      await running?.stop().catch(() => undefined);
      if (!opt.keep) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
      else console.error(`data and logs kept in ${baseDir}`);
    })();
    return cleaning;
  };
  // Last resort: SIGKILL the members we started, by PID.
  process.on('exit', () => {
    killMembersNow(running?.members ?? []);
  });
  const disarm = guardRun(cleanup, budgetMs);

  try {
    pool = new WorkerPool(import.meta.url);
    await pool.start(opt.workers);
    const rows: RunRow[] = [];
    for (let round = 1; round <= opt.rounds; round++) {
      for (const system of opt.systems) {
        rows.push(await runOne(system, round, opt, pool, baseDir, (r) => (running = r)));
        await sleep(500);
      }
    }
    const report = renderReport(opt, rows);
    console.log(report);
    await writeResults('lease-keepalive', report);
  } finally {
    disarm();
    await cleanup();
  }
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
} else {
  workerMain();
}
