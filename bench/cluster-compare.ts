/**
 * Side by side: a 3-member tsetcd cluster against a 3-member real etcd 3.4 cluster on the same
 * machine, the same client, the same workloads. Prints figures (a markdown table); never a test.
 *
 *   npx tsx bench/cluster-compare.ts [--seconds 10] [--clients 1,16,64] [--rounds 2]
 *        [--warmup 2] [--workers 2] [--workloads put,range] [--keep] [--etcd /usr/bin/etcd]
 *
 * What it does
 * - Starts both clusters (tsetcd through cluster/local-cluster.ts, etcd as three `etcd`
 *   processes it spawns itself), each on free 127.0.0.1 ports, heartbeat 100 ms, election
 *   1000 ms, default durability (fsync on) on both.
 * - For every cell (workload x concurrency) runs tsetcd, etcd, tsetcd, etcd, ... (`--rounds`
 *   pairs), so drift of the machine hits both. Workloads: `put` of unique keys with 256-byte
 *   values; linearizable `range` of one existing key (256-byte value).
 * - The client is @grpc/grpc-js with the request/response bytes encoded by protobufjs from
 *   proto/ (no retries, no balancer, a per-request deadline). Every generator thread holds one
 *   gRPC connection per endpoint; client i of C sends on endpoint i mod 3, as etcd's benchmark
 *   spreads its clients over its connections. Endpoints are ordered leader first, so both
 *   systems put the same number of clients on their leader (a single client talks to the leader).
 * - The load runs in `--workers` worker threads (clients dealt round-robin to them). Reported
 *   per run: ops/s (completions inside the measured window), p50/p99 latency, the generator's
 *   CPU (process.cpuUsage(), all threads) and the busiest worker's event-loop utilisation (near
 *   100% means the generator, not the server, is the limit), the servers' CPU from
 *   /proc/<pid>/stat of the PIDs this program started (sum, and per member leader first), and
 *   for tsetcd each member's main (JavaScript) thread CPU from /proc/<pid>/task/<pid>/stat:
 *   a main thread near 100% is a saturated event loop.
 * - Writes the table to results/cluster-compare-<timestamp>.md as well.
 * - Stops everything it started, by PID, also on Ctrl-C, on an error, and when the overall
 *   deadline passes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { LocalCluster } from '../cluster/local-cluster.js';
import { startRealEtcdCluster, type RealEtcdCluster } from '../cluster/real-etcd.js';
import { PROTO_FILES, protoDir } from '../proto/index.js';
import { guardRun } from './common/guard.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VALUE_BYTES = 256;
const RANGE_KEY = 'bench/range-key';
const HEARTBEAT_MS = 100;
const ELECTION_MS = 1000;

type Workload = 'put' | 'range';
type SystemName = 'tsetcd' | 'etcd';

// ---------------------------------------------------------------------------------------------
// Wire: protobufjs types from proto/, raw unary calls through grpc-js.

interface Wire {
  PutRequest: protobuf.Type;
  RangeRequest: protobuf.Type;
  RangeResponse: protobuf.Type;
  StatusRequest: protobuf.Type;
  StatusResponse: protobuf.Type;
}

function loadWire(): Wire {
  const dir = protoDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  const t = (name: string): protobuf.Type => root.lookupType(`etcdserverpb.${name}`);
  return {
    PutRequest: t('PutRequest'),
    RangeRequest: t('RangeRequest'),
    RangeResponse: t('RangeResponse'),
    StatusRequest: t('StatusRequest'),
    StatusResponse: t('StatusResponse'),
  };
}

const PUT_PATH = '/etcdserverpb.KV/Put';
const RANGE_PATH = '/etcdserverpb.KV/Range';
const STATUS_PATH = '/etcdserverpb.Maintenance/Status';
const identity = (b: Buffer): Buffer => b;

function newChannel(endpoint: string): grpc.Client {
  const target = endpoint.replace(/^https?:\/\//, '');
  return new grpc.Client(target, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
}

function unary(client: grpc.Client, method: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method, identity, identity, body, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else if (res === undefined) reject(new Error(`${method}: empty response`));
      else resolve(res);
    });
  });
}

function errText(e: unknown): string {
  if (e && typeof e === 'object' && 'details' in e && 'code' in e) {
    const g = e as grpc.ServiceError;
    return `${grpc.status[g.code] ?? g.code}: ${g.details}`;
  }
  return e instanceof Error ? e.message : String(e);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Worker side: runs a share of the clients of one run.

interface RunOrder {
  type: 'run';
  id: number;
  /** Endpoints, leader first. */
  endpoints: string[];
  workload: Workload;
  /** Global client indices this worker runs (client i uses endpoint i mod endpoints.length). */
  clients: number[];
  keyPrefix: string;
  /** Epoch ms: start sending (warmup), start measuring, stop measuring. */
  startAt: number;
  measureFrom: number;
  measureTo: number;
  requestTimeoutMs: number;
}

interface RunResult {
  type: 'result';
  id: number;
  latenciesMs: Float64Array<ArrayBuffer>;
  errors: number;
  errorSamples: string[];
  /** Event-loop utilisation of this worker during the measured window (0..1). */
  elu: number;
  /** CPU of this worker's own thread during the measured window, % of one core. */
  threadCpu: number;
}

/** CPU seconds of the calling thread (/proc/thread-self: sync fs calls run on the caller). */
function threadCpuSeconds(): number {
  return cpuSeconds('/proc/thread-self/stat') ?? NaN;
}

async function workerMain(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('no parentPort');
  const wire = loadWire();
  const channels = new Map<string, grpc.Client>();
  const channel = (ep: string): grpc.Client => {
    let c = channels.get(ep);
    if (!c) {
      c = newChannel(ep);
      channels.set(ep, c);
    }
    return c;
  };
  const value = randomBytes(VALUE_BYTES);
  const rangeBody = Buffer.from(wire.RangeRequest.encode({ key: Buffer.from(RANGE_KEY) }).finish());
  const tag = (workerData as { index: number }).index;

  async function run(o: RunOrder): Promise<RunResult> {
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
    const eluStart = setTimeout(() => {
      elu0 = performance.eventLoopUtilization();
      cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
    }, Math.max(0, o.measureFrom - Date.now()));
    const eluEnd = setTimeout(endWindow, Math.max(0, o.measureTo - Date.now()));
    await sleep(Math.max(0, o.startAt - Date.now()));

    const one = async (ci: number): Promise<void> => {
      const ep = o.endpoints[ci % o.endpoints.length] as string;
      const ch = channel(ep);
      let checked = false;
      // Bounded: stops at measureTo; every request has its own deadline.
      for (let seq = 0; Date.now() < o.measureTo; seq++) {
        const body =
          o.workload === 'put'
            ? Buffer.from(wire.PutRequest.encode({ key: Buffer.from(`${o.keyPrefix}/${ci}/${seq}`), value }).finish())
            : rangeBody;
        const t0 = performance.now();
        try {
          const res = await unary(ch, o.workload === 'put' ? PUT_PATH : RANGE_PATH, body, o.requestTimeoutMs);
          const t1 = performance.now();
          const now = Date.now();
          if (now >= o.measureFrom && now <= o.measureTo) lat.push(t1 - t0);
          if (!checked && o.workload === 'range') {
            checked = true;
            const r = wire.RangeResponse.toObject(wire.RangeResponse.decode(res), { longs: String }) as { kvs?: unknown[] };
            if (r.kvs?.length !== 1) throw new Error(`range of ${RANGE_KEY} returned ${r.kvs?.length ?? 0} kvs`);
          }
        } catch (e) {
          const now = Date.now();
          if (now >= o.measureFrom && now <= o.measureTo) errors++;
          if (samples.size < 5) samples.add(`${ep} ${o.workload}: ${errText(e)}`);
          await sleep(10); // no hot loop on a failing endpoint
        }
      }
    };
    await Promise.all(o.clients.map(one));
    clearTimeout(eluStart);
    clearTimeout(eluEnd);
    endWindow();
    return { type: 'result', id: o.id, latenciesMs: Float64Array.from(lat), errors, errorSamples: [...samples], elu: elu ?? NaN, threadCpu };
  }

  port.on('message', (m: RunOrder | { type: 'close' }) => {
    if (m.type === 'close') {
      for (const c of channels.values()) c.close();
      channels.clear();
      port.close();
      return;
    }
    run(m).then(
      (r) => port.postMessage(r, [r.latenciesMs.buffer]),
      (e: unknown) => port.postMessage({ type: 'fatal', id: m.id, error: errText(e) }),
    );
  });
  port.postMessage({ type: 'ready', tag });
}

// ---------------------------------------------------------------------------------------------
// Main side: processes, CPU sampling, orchestration, the report.

interface Options {
  seconds: number;
  warmup: number;
  clients: number[];
  rounds: number;
  workers: number;
  workloads: Workload[];
  keep: boolean;
  etcd: string;
  requestTimeoutMs: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      clients: { type: 'string', default: '1,16,64' },
      rounds: { type: 'string', default: '2' },
      workers: { type: 'string', default: String(Math.min(2, os.cpus().length)) },
      workloads: { type: 'string', default: 'put,range' },
      keep: { type: 'boolean', default: false },
      etcd: { type: 'string', default: '/usr/bin/etcd' },
      'request-timeout': { type: 'string', default: '10' },
    },
  });
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in [${min}, ${max}], got ${v}`);
    return n;
  };
  const clients = values.clients.split(',').map((s) => Math.round(num('clients', s.trim(), 1, 10_000)));
  const workloads = values.workloads.split(',').map((s) => s.trim());
  for (const w of workloads) if (w !== 'put' && w !== 'range') throw new Error(`unknown workload ${w} (put, range)`);
  return {
    seconds: num('seconds', values.seconds, 1, 600),
    warmup: num('warmup', values.warmup, 0, 60),
    clients,
    rounds: Math.round(num('rounds', values.rounds, 1, 50)),
    workers: Math.round(num('workers', values.workers, 1, 64)),
    workloads: workloads as Workload[],
    keep: values.keep,
    etcd: values.etcd,
    requestTimeoutMs: num('request-timeout', values['request-timeout'], 1, 120) * 1000,
  };
}

/** utime+stime of a process or thread, in seconds; undefined once it is gone. */
function cpuSeconds(statFile: string): number | undefined {
  let s: string;
  try {
    s = readFileSync(statFile, 'utf8');
  } catch {
    return undefined;
  }
  const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}
const CLK_TCK = 100; // Linux USER_HZ; /proc reports in these ticks on every mainstream kernel

interface Member {
  name: string;
  endpoint: string;
  pid: number;
}

interface CpuSample {
  at: number;
  /** Per member pid: whole process, main thread. */
  proc: Map<number, { total: number; main: number }>;
  gen: NodeJS.CpuUsage;
  /** Busy seconds of the whole machine (all cores, every process), from /proc/stat. */
  machine: number;
}

function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / CLK_TCK;
  } catch {
    return NaN;
  }
}

function sampleCpu(members: readonly Member[]): CpuSample {
  const proc = new Map<number, { total: number; main: number }>();
  for (const m of members) {
    proc.set(m.pid, {
      total: cpuSeconds(`/proc/${m.pid}/stat`) ?? NaN,
      main: cpuSeconds(`/proc/${m.pid}/task/${m.pid}/stat`) ?? NaN,
    });
  }
  return { at: performance.now(), proc, gen: process.cpuUsage(), machine: machineBusySeconds() };
}

/** A real etcd 3.4 cluster of `etcd` processes this program spawns. */
interface StatusInfo {
  memberId: string;
  leader: string;
}

async function status(ch: grpc.Client, wire: Wire): Promise<StatusInfo> {
  const res = await unary(ch, STATUS_PATH, Buffer.from(wire.StatusRequest.encode({}).finish()), 2000);
  const o = wire.StatusResponse.toObject(wire.StatusResponse.decode(res), { longs: String, defaults: true }) as {
    header?: { member_id?: string };
    leader?: string;
  };
  return { memberId: o.header?.member_id ?? '0', leader: o.leader ?? '0' };
}

/** Waits until every endpoint agrees on a leader; returns the endpoints, leader first. */
async function leaderFirst(endpoints: readonly string[], wire: Wire, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const chans = endpoints.map(newChannel);
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        const st = await Promise.all(chans.map((c) => status(c, wire)));
        const leader = st[0]?.leader ?? '0';
        if (leader !== '0' && st.every((s) => s.leader === leader)) {
          const li = st.findIndex((s) => s.memberId === leader);
          if (li >= 0) return [endpoints[li] as string, ...endpoints.filter((_, i) => i !== li)];
          last = `leader ${leader} is none of the endpoints`;
        } else last = `no agreed leader: ${st.map((s) => s.leader).join(',')}`;
      } catch (e) {
        last = errText(e);
      }
      await sleep(200);
    }
  } finally {
    for (const c of chans) c.close();
  }
  throw new Error(`no leader within ${timeoutMs} ms on ${endpoints.join(',')}: ${last}`);
}

async function putRangeKey(endpoints: readonly string[], wire: Wire, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ch = newChannel(endpoints[0] as string);
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        await unary(ch, PUT_PATH, Buffer.from(wire.PutRequest.encode({ key: Buffer.from(RANGE_KEY), value: randomBytes(VALUE_BYTES) }).finish()), 3000);
        return;
      } catch (e) {
        last = errText(e);
        await sleep(200);
      }
    }
  } finally {
    ch.close();
  }
  throw new Error(`put of ${RANGE_KEY} failed on ${endpoints[0]}: ${last}`);
}

interface RunRow {
  workload: Workload;
  clients: number;
  round: number;
  system: SystemName;
  ops: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  genCpu: number;
  genElu: number;
  /** The busiest generator worker thread's own CPU, % of one core. */
  genThreadCpu: number;
  serverCpu: number;
  /** The other (idle) cluster's processes during this run. */
  idleClusterCpu: number;
  /** Everything else on the machine: busy CPU from /proc/stat minus the generator and both clusters. */
  othersCpu: number;
  /** Per member, leader first. */
  memberCpu: number[];
  /** tsetcd: each member's JS main thread, leader first. */
  mainThreadCpu: number[] | undefined;
  errors: number;
  errorSamples: string[];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Server CPU (all members) per completed request, in µs: robust against a busy machine. */
const cpuPerOp = (serverCpuPct: number, opsPerSec: number): number => (opsPerSec > 0 ? (serverCpuPct / 100) * 1e6 / opsPerSec : NaN);
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f2 = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '-');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '-');

class Pool {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { left: number; results: RunResult[]; resolve: (r: RunResult[]) => void; reject: (e: Error) => void }>();

  async start(n: number): Promise<void> {
    const api = import.meta.resolve('tsx/esm/api');
    // A worker cannot take tsx through execArgv on Node 20; it registers tsx and imports us.
    const src = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker(src, { eval: true, workerData: { index: i } });
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`worker ${i} not ready in 30 s`)), 30_000);
          w.on('message', (m: RunResult | { type: 'ready' } | { type: 'fatal'; id: number; error: string }) => {
            if (m.type === 'ready') {
              clearTimeout(t);
              resolve();
            } else if (m.type === 'fatal') {
              this.pending.get(m.id)?.reject(new Error(`worker ${i}: ${m.error}`));
              this.pending.delete(m.id);
            } else {
              const p = this.pending.get(m.id);
              if (!p) return;
              p.results.push(m);
              if (--p.left === 0) {
                this.pending.delete(m.id);
                p.resolve(p.results);
              }
            }
          });
          w.on('error', (e) => {
            clearTimeout(t);
            reject(e);
            for (const p of this.pending.values()) p.reject(e);
            this.pending.clear();
          });
        }),
      );
    }
    await Promise.all(ready);
  }

  run(order: Omit<RunOrder, 'type' | 'id' | 'clients'>, totalClients: number, timeoutMs: number): Promise<RunResult[]> {
    const id = this.nextId++;
    const shares: number[][] = this.workers.map(() => []);
    for (let c = 0; c < totalClients; c++) shares[c % this.workers.length]?.push(c);
    const busy = this.workers.map((w, i) => ({ w, share: shares[i] as number[] })).filter((x) => x.share.length > 0);
    return new Promise<RunResult[]>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`run ${id} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        left: busy.length,
        results: [],
        resolve: (r) => {
          clearTimeout(t);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      for (const { w, share } of busy) w.postMessage({ ...order, type: 'run', id, clients: share } satisfies RunOrder);
    });
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.postMessage({ type: 'close' });
    await Promise.all(this.workers.map((w) => Promise.race([new Promise((r) => w.once('exit', r)), sleep(2000).then(() => w.terminate())])));
    this.workers.length = 0;
  }
}

async function main(): Promise<void> {
  const opt = parseOptions();
  if (!existsSync(opt.etcd)) throw new Error(`no etcd at ${opt.etcd}`);
  const cells = opt.workloads.length * opt.clients.length * opt.rounds * 2;
  const perRunMs = (opt.warmup + opt.seconds) * 1000 + opt.requestTimeoutMs + 20_000;
  const budgetMs = 180_000 + cells * perRunMs;
  const wire = loadWire();
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'cluster-compare-'));

  let tsetcd: LocalCluster | undefined;
  let etcd: RealEtcdCluster | undefined;
  let pool: Pool | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await pool?.close().catch(() => undefined);
      await Promise.all([tsetcd?.stopAll().catch(() => undefined), etcd?.stop('SIGTERM').catch(() => undefined)]);
      if (!opt.keep) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
      else console.error(`data and logs kept in ${baseDir}`);
    })();
    return cleaning;
  };
  // Last resort on exit: SIGKILL whatever we started that still runs, by PID.
  process.on('exit', () => {
    for (const p of tsetcd?.members.map((m) => m.process) ?? []) {
      if (p?.pid !== undefined && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    for (const m of etcd?.members ?? []) {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const disarm = guardRun(cleanup, budgetMs);

  try {
    console.error(`base dir ${baseDir}; starting clusters...`);
    tsetcd = await LocalCluster.create({
      size: 3,
      baseDir: path.join(baseDir, 'tsetcd'),
      flags: ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS)],
      output: 'file',
    });
    tsetcd.startAll();
    etcd = await startRealEtcdCluster(3, {
      bin: opt.etcd,
      baseDir: path.join(baseDir, 'etcd'),
      logToFiles: true,
      waitHealthy: false,
      flags: ['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS), '--logger', 'zap', '--log-outputs', 'stderr'],
    });
    const systems: { name: SystemName; endpoints: string[]; members: () => Member[] }[] = [
      {
        name: 'tsetcd',
        endpoints: tsetcd.endpoints,
        members: () => (tsetcd?.members ?? []).map((m) => ({ name: m.name, endpoint: m.clientUrl, pid: m.process?.pid ?? -1 })),
      },
      {
        name: 'etcd',
        endpoints: etcd.endpoints,
        members: () => (etcd?.members ?? []).map((m) => ({ name: m.name, endpoint: m.clientUrl, pid: m.pid })),
      },
    ];
    for (const s of systems) {
      await leaderFirst(s.endpoints, wire, 90_000);
      await putRangeKey(s.endpoints, wire, 30_000);
      console.error(`${s.name} ready: ${s.endpoints.join(' ')} (pids ${s.members().map((m) => m.pid).join(' ')})`);
    }

    pool = new Pool();
    await pool.start(opt.workers);

    const rows: RunRow[] = [];
    const runTag = Date.now().toString(36);
    for (const workload of opt.workloads) {
      for (const clients of opt.clients) {
        for (let round = 1; round <= opt.rounds; round++) {
          for (const s of systems) {
            const ordered = await leaderFirst(s.endpoints, wire, 30_000);
            const byEndpoint = new Map(s.members().map((m) => [m.endpoint, m]));
            const members = ordered.map((ep) => byEndpoint.get(ep) as Member);
            const startAt = Date.now() + 300;
            const measureFrom = startAt + opt.warmup * 1000;
            const measureTo = measureFrom + opt.seconds * 1000;
            let before: CpuSample | undefined;
            let after: CpuSample | undefined;
            const idle = systems.filter((o) => o !== s).flatMap((o) => o.members());
            const all = [...members, ...idle];
            const t1 = setTimeout(() => (before = sampleCpu(all)), measureFrom - Date.now());
            const t2 = setTimeout(() => (after = sampleCpu(all)), measureTo - Date.now());
            let results: RunResult[];
            try {
              results = await pool.run(
                {
                  endpoints: ordered,
                  workload,
                  keyPrefix: `bench/${runTag}/${workload}/${clients}/${round}/${s.name}`,
                  startAt,
                  measureFrom,
                  measureTo,
                  requestTimeoutMs: opt.requestTimeoutMs,
                },
                clients,
                measureTo - Date.now() + opt.requestTimeoutMs + 15_000,
              );
            } finally {
              clearTimeout(t1);
              clearTimeout(t2);
            }
            // The workers stop at measureTo and may answer before our own timer fires.
            after ??= sampleCpu(all);
            if (!before) throw new Error('CPU sample missing (run ended before its window?)');
            const b = before;
            const a = after;
            const wallS = (a.at - b.at) / 1000;
            const pct = (sec: number): number => (100 * sec) / wallS;
            const memberCpu = members.map((m) => pct((a.proc.get(m.pid)?.total ?? NaN) - (b.proc.get(m.pid)?.total ?? NaN)));
            const idleCpu = idle.map((m) => pct((a.proc.get(m.pid)?.total ?? NaN) - (b.proc.get(m.pid)?.total ?? NaN))).reduce((x, y) => x + y, 0);
            const mainCpu = members.map((m) => pct((a.proc.get(m.pid)?.main ?? NaN) - (b.proc.get(m.pid)?.main ?? NaN)));
            const lat = new Float64Array(results.reduce((n, r) => n + r.latenciesMs.length, 0));
            let off = 0;
            for (const r of results) {
              lat.set(r.latenciesMs, off);
              off += r.latenciesMs.length;
            }
            lat.sort();
            const genCpu = pct((a.gen.user - b.gen.user + a.gen.system - b.gen.system) / 1e6);
            const serverCpu = memberCpu.reduce((x, y) => x + y, 0);
            const row: RunRow = {
              workload,
              clients,
              round,
              system: s.name,
              ops: lat.length,
              opsPerSec: lat.length / opt.seconds,
              p50: percentile(lat, 0.5),
              p99: percentile(lat, 0.99),
              genCpu,
              genElu: 100 * Math.max(...results.map((r) => r.elu)),
              genThreadCpu: Math.max(...results.map((r) => r.threadCpu)),
              serverCpu,
              idleClusterCpu: idleCpu,
              othersCpu: pct(a.machine - b.machine) - genCpu - serverCpu - idleCpu,
              memberCpu,
              mainThreadCpu: s.name === 'tsetcd' ? mainCpu : undefined,
              errors: results.reduce((n, r) => n + r.errors, 0),
              errorSamples: [...new Set(results.flatMap((r) => r.errorSamples))],
            };
            rows.push(row);
            console.error(
              `${workload} c=${clients} round ${round} ${s.name}: ${f0(row.opsPerSec)} ops/s p50 ${f2(row.p50)} ms p99 ${f2(row.p99)} ms ` +
                `gen ${f0(row.genCpu)}% (busiest worker thread ${f0(row.genThreadCpu)}%, elu ${f0(row.genElu)}%) server ${f0(row.serverCpu)}% (${f0(cpuPerOp(row.serverCpu, row.opsPerSec))} µs/op) [${memberCpu.map(f0).join('/')}] idle cluster ${f0(row.idleClusterCpu)}% others ${f0(row.othersCpu)}%` +
                (row.mainThreadCpu ? ` main threads [${row.mainThreadCpu.map(f0).join('/')}]` : '') +
                (row.errors ? ` errors ${row.errors}: ${row.errorSamples.join(' | ')}` : ''),
            );
            await sleep(500);
          }
        }
      }
    }

    const report = renderReport(opt, rows);
    console.log(report);
    const resultsDir = path.join(HERE, '..', 'results');
    await mkdir(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `cluster-compare-${new Date().toISOString().replace(/[:.]/g, '-')}.md`);
    await writeFile(file, report);
    console.error(`written to ${path.relative(process.cwd(), file)}`);
  } finally {
    disarm();
    await cleanup();
  }
}

function renderReport(opt: Options, rows: RunRow[]): string {
  const cpus = os.cpus();
  const lines: string[] = [];
  lines.push(`# tsetcd vs etcd 3.4, 3 members each, same machine`);
  lines.push('');
  lines.push(
    `${new Date().toISOString()} — ${cpus.length} x ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
      `etcd ${etcdVersion()}. Heartbeat ${HEARTBEAT_MS} ms, election ${ELECTION_MS} ms, fsync on (defaults) for both. ` +
      `${opt.seconds} s measured after ${opt.warmup} s warmup per run, ${opt.rounds} rounds (tsetcd, etcd alternating), ` +
      `${opt.workers} generator worker thread(s), gRPC (grpc-js) with one connection per endpoint per worker; client i on endpoint i mod 3, leader first. ` +
      `put: unique keys, ${VALUE_BYTES}-byte values. range: linearizable Range of one ${VALUE_BYTES}-byte key.`,
  );
  lines.push('');
  lines.push(
    'CPU % is of one core. gen CPU: the load generator process (all threads); gen thread: the busiest generator worker thread (near 100% = the generator is the limit); ' +
      'gen ELU: that worker\'s event-loop utilisation (inflated when the machine is oversubscribed: time descheduled counts as busy). ' +
      'server CPU: sum over the 3 members (/proc/<pid>/stat); µs/op: that CPU per completed request (comparable even when the machine is busy); members: leader first. main thr: each tsetcd member\'s JavaScript main thread (100% = event loop saturated). ' +
      'idle cluster: the other system\'s members meanwhile. others: the rest of the machine (/proc/stat busy minus all of the above) — noise from other work.',
  );
  lines.push('');
  lines.push('| workload | conc | round | system | ops/s | p50 ms | p99 ms | gen CPU % | gen thread % | gen ELU % | server CPU % | server CPU µs/op | members CPU % (L/F/F) | main thr % (L/F/F) | idle cluster CPU % | others CPU % | errors |');
  lines.push('| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |');
  const summary: string[] = [];
  summary.push('| workload | conc | tsetcd ops/s | etcd ops/s | ops/s tsetcd/etcd | tsetcd p99 ms | etcd p99 ms | p99 tsetcd/etcd | tsetcd server CPU % | etcd server CPU % | tsetcd CPU µs/op | etcd CPU µs/op | CPU/op tsetcd/etcd |');
  summary.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const errorLines: string[] = [];
  for (const workload of opt.workloads) {
    for (const clients of opt.clients) {
      const cell = rows.filter((r) => r.workload === workload && r.clients === clients);
      for (const r of cell) {
        lines.push(
          `| ${r.workload} | ${r.clients} | ${r.round} | ${r.system} | ${f0(r.opsPerSec)} | ${f2(r.p50)} | ${f2(r.p99)} | ${f0(r.genCpu)} | ${f0(r.genThreadCpu)} | ${f0(r.genElu)} | ${f0(r.serverCpu)} | ${f0(cpuPerOp(r.serverCpu, r.opsPerSec))} | ` +
            `${r.memberCpu.map(f0).join(' / ')} | ${r.mainThreadCpu ? r.mainThreadCpu.map(f0).join(' / ') : '-'} | ${f0(r.idleClusterCpu)} | ${f0(r.othersCpu)} | ${r.errors} |`,
        );
        if (r.errorSamples.length > 0) errorLines.push(`- ${r.workload} c=${r.clients} round ${r.round} ${r.system}: ${r.errors} errors in window; e.g. ${r.errorSamples.join(' | ')}`);
      }
      const med = (sys: SystemName, f: (r: RunRow) => number): number => median(cell.filter((r) => r.system === sys).map(f));
      const m = (sys: SystemName): Record<string, number> => ({
        ops: med(sys, (r) => r.opsPerSec),
        p50: med(sys, (r) => r.p50),
        p99: med(sys, (r) => r.p99),
        gen: med(sys, (r) => r.genCpu),
        elu: med(sys, (r) => r.genElu),
        thr: med(sys, (r) => r.genThreadCpu),
        cpu: med(sys, (r) => r.serverCpu),
        perOp: med(sys, (r) => cpuPerOp(r.serverCpu, r.opsPerSec)),
        err: med(sys, (r) => r.errors),
        others: med(sys, (r) => r.othersCpu),
      });
      const t = m('tsetcd');
      const e = m('etcd');
      for (const [sys, v] of [['tsetcd', t], ['etcd', e]] as const) {
        lines.push(
          `| **${workload}** | **${clients}** | **median** | **${sys}** | **${f0(v['ops'] ?? NaN)}** | **${f2(v['p50'] ?? NaN)}** | **${f2(v['p99'] ?? NaN)}** | ${f0(v['gen'] ?? NaN)} | ${f0(v['thr'] ?? NaN)} | ${f0(v['elu'] ?? NaN)} | ${f0(v['cpu'] ?? NaN)} | ${f0(v['perOp'] ?? NaN)} | | | | ${f0(v['others'] ?? NaN)} | ${f0(v['err'] ?? NaN)} |`,
        );
      }
      lines.push(
        `| **${workload}** | **${clients}** | **ratio** | **tsetcd/etcd** | **${ratio(t['ops'] ?? NaN, e['ops'] ?? NaN)}** | ${ratio(t['p50'] ?? NaN, e['p50'] ?? NaN)} | **${ratio(t['p99'] ?? NaN, e['p99'] ?? NaN)}** | | | | ${ratio(t['cpu'] ?? NaN, e['cpu'] ?? NaN)} | **${ratio(t['perOp'] ?? NaN, e['perOp'] ?? NaN)}** | | | | | |`,
      );
      summary.push(
        `| ${workload} | ${clients} | ${f0(t['ops'] ?? NaN)} | ${f0(e['ops'] ?? NaN)} | ${ratio(t['ops'] ?? NaN, e['ops'] ?? NaN)} | ${f2(t['p99'] ?? NaN)} | ${f2(e['p99'] ?? NaN)} | ` +
          `${ratio(t['p99'] ?? NaN, e['p99'] ?? NaN)} | ${f0(t['cpu'] ?? NaN)} | ${f0(e['cpu'] ?? NaN)} | ` +
          `${f0(t['perOp'] ?? NaN)} | ${f0(e['perOp'] ?? NaN)} | ${ratio(t['perOp'] ?? NaN, e['perOp'] ?? NaN)} |`,
      );
    }
  }
  lines.push('');
  lines.push('## Summary (medians over rounds)');
  lines.push('');
  lines.push(...summary);
  if (errorLines.length > 0) {
    lines.push('');
    lines.push('## Errors');
    lines.push('');
    lines.push(...errorLines);
  }
  const saturated = rows.filter((r) => r.genThreadCpu > 85);
  if (saturated.length > 0) {
    lines.push('');
    lines.push(
      `**Warning:** a generator worker thread used > 85% of a core in ${saturated.length} run(s): ` +
        saturated.map((r) => `${r.workload}/c=${r.clients}/r${r.round}/${r.system}`).join(', ') +
        '; rerun with more --workers if the machine has idle cores.',
    );
  }
  const total = rows.map((r) => r.genCpu + r.serverCpu + r.idleClusterCpu + Math.max(0, r.othersCpu));
  const busy = total.filter((x) => x > 85 * cpus.length).length;
  if (busy > 0) {
    lines.push('');
    lines.push(`**Note:** in ${busy} run(s) the machine (generator, clusters and other processes) was > 85% busy on all ${cpus.length} cores: the machine itself was the limit there.`);
  }
  lines.push('');
  return lines.join('\n');
}

function etcdVersion(): string {
  return etcdVersionCache ?? 'unknown';
}
let etcdVersionCache: string | undefined;

async function readEtcdVersion(bin: string): Promise<void> {
  const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
  etcdVersionCache = /etcd Version: (\S+)/.exec(out)?.[1];
}

if (isMainThread) {
  readEtcdVersion(parseOptions().etcd)
    .catch(() => undefined)
    .then(main)
    .then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e instanceof Error ? (e.stack ?? e.message) : e);
        process.exit(1);
      },
    );
} else {
  await workerMain();
}
