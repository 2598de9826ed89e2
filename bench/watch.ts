/**
 * Watch fan-out on one member: a 1-member tsetcd beside a 1-member real etcd 3.4, the same
 * client (src/client) and load. Prints figures (a markdown table); never a test.
 *
 *   npm run bench:watch -- [--watchers 100000] [--streams 1000] [--rate 1000] [--seconds 20]
 *        [--rounds 1] [--workers 2] [--conns 1] [--prefix] [--keys N] [--value-size 64]
 *        [--systems tsetcd,etcd] [--etcd /usr/bin/etcd] [--keep]
 *
 * What it does, per run (tsetcd, etcd, tsetcd, etcd, ... for `--rounds` pairs, each run on a
 * freshly started member so memory figures start from the same place):
 * - Starts the member on free 127.0.0.1 ports in a temporary directory and waits until it
 *   takes a put. Samples the server's RSS (/proc/<pid>/status).
 * - Opens S streams carrying W watchers, spread over `--workers` worker threads (stream s in
 *   worker s mod workers, over `--conns` connections per worker; watcher i on stream i mod S).
 *   Watcher i watches key `w/<i mod K>` (K = `--keys`, default W: one watcher per key), or with
 *   `--prefix` the prefix `w/<i mod K>/` (K default W/10: ten watchers per prefix). Waits for
 *   every `created`, then samples RSS again.
 * - Puts at R puts/s for T seconds from the main thread (key index j mod K for the j-th put, so
 *   every watcher gets the same share), with the send time (performance.timeOrigin +
 *   performance.now(), the same clock in every thread) in the value. Each receiving worker
 *   computes delivery latency = receive time - send time per event.
 * - Waits (bounded) until every expected event arrived: for each watcher, the number of
 *   acknowledged puts to its key. Reports events expected/received, missing (and how many
 *   watchers missed some), extra events (from puts that failed indefinitely, or duplicates).
 * - Reports latency p50/p90/p99/max, the server's RSS (before watchers, after creating them, at
 *   the end; the growth per watcher), server CPU during the put window (/proc/<pid>/stat, all
 *   threads), and the generator's CPU (process.cpuUsage(), all threads) with its busiest
 *   worker thread's CPU and event-loop utilisation (near 100% = the generator is the limit).
 * - Writes the table to results/watch-<timestamp>.md as well.
 * - Stops only what it started, by PID, also on Ctrl-C, on error and at the overall deadline,
 *   and removes its temporary directories.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, type Worker } from 'node:worker_threads';
import { LocalCluster } from '../cluster/local-cluster.js';
import { startRealEtcdCluster, type RealEtcdCluster } from '../cluster/real-etcd.js';
import { ClientError, EtcdClient, type WatchStream } from '../src/client/index.js';
import { cpuSeconds, machineBusySeconds, rssMiB, threadCpuSeconds } from './common/proc.js';
import { f0, f1, f2, median, percentile, ratio } from './common/stats.js';
import { buildTsetcd, readEtcdVersion, sleep, waitWritable } from './common/systems.js';
import { startModuleWorker } from './common/workers.js';
import { guardRun } from './common/guard.js';
import { writeResults } from './common/results.js';
import { benchArgs } from './common/args.js';

let etcdVersionCache: string | undefined;
type SystemName = 'tsetcd' | 'etcd';

/** Wall-clock milliseconds with sub-ms resolution, comparable across threads of one process. */
const nowMs = (): number => performance.timeOrigin + performance.now();

interface Layout {
  watchers: number;
  streams: number;
  keys: number;
  prefix: boolean;
}

const watchKey = (l: Layout, k: number): { key: string; rangeEnd?: string } =>
  l.prefix ? { key: `w/${k}/`, rangeEnd: `w/${k}0` } : { key: `w/${k}` };
const putKey = (l: Layout, k: number): string => (l.prefix ? `w/${k}/p` : `w/${k}`);
/** Watchers on key index k: those i < W with i mod K = k. */
const matchesOfKey = (l: Layout, k: number): number => Math.floor(l.watchers / l.keys) + (k < l.watchers % l.keys ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Worker side: holds a share of the streams and watchers, counts and times events.

interface SetupOrder {
  type: 'setup';
  endpoint: string;
  layout: Layout;
  /** Stream indices this worker holds (global, in [0, S)). */
  streams: number[];
  conns: number;
  timeoutMs: number;
}
interface FinishOrder {
  type: 'finish';
  /** Acknowledged puts per key index. */
  putsPerKey: Uint32Array;
}
type Order = SetupOrder | { type: 'window' } | { type: 'progress' } | FinishOrder | { type: 'close' };

interface SetupDone {
  type: 'setup-done';
  watchers: number;
  ms: number;
}
interface Progress {
  type: 'progress';
  received: number;
}
interface Finished {
  type: 'finished';
  latenciesMs: Float64Array<ArrayBuffer>;
  expected: number;
  received: number;
  missing: number;
  watchersMissing: number;
  extra: number;
  elu: number;
  threadCpu: number;
  errors: string[];
}
type Reply = { type: 'ready' } | SetupDone | Progress | Finished | { type: 'fatal'; error: string };

function workerMain(): void {
  const port = parentPort;
  if (!port) throw new Error('no parentPort');
  let state: WorkerRun | undefined;
  port.on('message', (m: Order) => {
    const reply = (r: Reply, transfer?: ArrayBuffer[]): void => port.postMessage(r, transfer ?? []);
    const fatal = (e: unknown): void => reply({ type: 'fatal', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    try {
      if (m.type === 'setup') {
        state?.close();
        state = new WorkerRun(m);
        state.setup().then(reply, fatal);
      } else if (m.type === 'window') state?.startWindow();
      else if (m.type === 'progress') reply({ type: 'progress', received: state?.received ?? 0 });
      else if (m.type === 'finish') {
        if (!state) throw new Error('finish before setup');
        const f = state.finish(m.putsPerKey);
        state = undefined;
        reply(f, [f.latenciesMs.buffer]);
      } else {
        state?.close();
        port.close();
      }
    } catch (e) {
      fatal(e);
    }
  });
  port.postMessage({ type: 'ready' } satisfies Reply);
}

class WorkerRun {
  private readonly clients: EtcdClient[] = [];
  private readonly streams: WatchStream[] = [];
  /** Global watcher index of each local watcher. */
  private readonly watcherIndex: number[] = [];
  /** Events received per local watcher. */
  private counts = new Uint32Array(0);
  private lat = new Float64Array(1 << 16);
  private latN = 0;
  received = 0;
  private readonly errors = new Set<string>();
  private elu0 = performance.eventLoopUtilization();
  private cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
  private closed = false;

  constructor(private readonly o: SetupOrder) {}

  async setup(): Promise<SetupDone> {
    const t0 = performance.now();
    const l = this.o.layout;
    for (let c = 0; c < this.o.conns; c++) this.clients.push(new EtcdClient({ endpoints: [this.o.endpoint], timeoutMs: this.o.timeoutMs }));
    const waits: Promise<void>[] = [];
    for (const [si, s] of this.o.streams.entries()) {
      const client = this.clients[si % this.clients.length] as EtcdClient;
      const stream = client.watch();
      this.streams.push(stream);
      // Local watchers of this stream, in create order: the n-th `created` answers the n-th create.
      const pending: number[] = [];
      for (let g = s; g < l.watchers; g += l.streams) {
        pending.push(this.watcherIndex.length);
        this.watcherIndex.push(g);
      }
      waits.push(this.pump(stream, pending));
    }
    this.counts = new Uint32Array(this.watcherIndex.length);
    await Promise.all(waits);
    return { type: 'setup-done', watchers: this.watcherIndex.length, ms: performance.now() - t0 };
  }

  /** Creates the stream's watchers; resolves once all are created; keeps reading after. */
  private pump(stream: WatchStream, pending: number[]): Promise<void> {
    const l = this.o.layout;
    return new Promise<void>((resolve, reject) => {
      const byWatchId = new Map<number, number>();
      let next = 0;
      if (pending.length === 0) resolve();
      const read = async (): Promise<void> => {
        for await (const r of stream) {
          if (r.created) {
            const local = pending[next++];
            if (local === undefined) throw new Error(`unexpected created response for watch ${r.watchId}`);
            byWatchId.set(r.watchId, local);
            if (next === pending.length) resolve();
            continue;
          }
          if (r.canceled) {
            this.errors.add(`watch ${r.watchId} canceled: ${r.cancelReason}`);
            continue;
          }
          if (r.events.length === 0) continue;
          const local = byWatchId.get(r.watchId);
          if (local === undefined) {
            this.errors.add(`events for unknown watch ${r.watchId}`);
            continue;
          }
          const at = nowMs();
          for (const ev of r.events) {
            const sent = ev.kv.value.length >= 8 ? ev.kv.value.readDoubleLE(0) : NaN;
            this.record(at - sent);
          }
          this.counts[local] = (this.counts[local] as number) + r.events.length;
          this.received += r.events.length;
        }
      };
      read().catch((e: unknown) => {
        if (this.closed) return;
        const msg = e instanceof ClientError ? `${e.statusName}: ${e.message}` : e instanceof Error ? e.message : String(e);
        this.errors.add(`stream broke: ${msg}`);
        reject(new Error(msg));
      });
      // Sends are buffered by grpc-js; the server answers as it reads them.
      for (const local of pending) {
        const g = this.watcherIndex[local] as number;
        stream.create(watchKey(l, g % l.keys));
      }
    });
  }

  private record(ms: number): void {
    if (this.latN === this.lat.length) {
      const bigger = new Float64Array(this.lat.length * 2);
      bigger.set(this.lat);
      this.lat = bigger;
    }
    this.lat[this.latN++] = ms;
  }

  startWindow(): void {
    this.elu0 = performance.eventLoopUtilization();
    this.cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
    this.latN = 0;
    this.received = 0;
    this.counts.fill(0);
  }

  finish(putsPerKey: Uint32Array): Finished {
    const elu = performance.eventLoopUtilization(this.elu0).utilization;
    const threadCpu = (100 * (threadCpuSeconds() - this.cpu0.sec)) / ((performance.now() - this.cpu0.at) / 1000);
    const l = this.o.layout;
    let expected = 0;
    let missing = 0;
    let extra = 0;
    let watchersMissing = 0;
    for (let local = 0; local < this.watcherIndex.length; local++) {
      const want = putsPerKey[(this.watcherIndex[local] as number) % l.keys] ?? 0;
      const got = this.counts[local] as number;
      expected += want;
      if (got < want) {
        missing += want - got;
        watchersMissing++;
      } else extra += got - want;
    }
    this.close();
    return {
      type: 'finished',
      latenciesMs: this.lat.slice(0, this.latN),
      expected,
      received: this.received,
      missing,
      watchersMissing,
      extra,
      elu,
      threadCpu,
      errors: [...this.errors].slice(0, 5),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams) s.close();
    for (const c of this.clients) c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Main side.

interface Options {
  watchers: number;
  streams: number;
  rate: number;
  seconds: number;
  rounds: number;
  workers: number;
  conns: number;
  prefix: boolean;
  keys: number;
  valueSize: number;
  systems: SystemName[];
  etcd: string;
  keep: boolean;
  drainSeconds: number;
}

function parseOptions(): Options {
  const values = benchArgs(import.meta.url, {
    watchers: { type: 'string', default: '100000' },
    streams: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
    workers: { type: 'string', default: '2' },
    conns: { type: 'string', default: '1' },
    prefix: { type: 'boolean', default: false },
    keys: { type: 'string' },
    'value-size': { type: 'string', default: '64' },
    systems: { type: 'string', default: 'tsetcd,etcd' },
    etcd: { type: 'string', default: '/usr/bin/etcd' },
    keep: { type: 'boolean', default: false },
    drain: { type: 'string', default: '15' },
  });
  const int = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${v}`);
    return n;
  };
  const watchers = int('watchers', values.watchers, 1, 2_000_000);
  const prefix = values.prefix;
  const systems = values.systems.split(',').map((s) => s.trim());
  for (const s of systems) if (s !== 'tsetcd' && s !== 'etcd') throw new Error(`unknown system ${s} (tsetcd, etcd)`);
  return {
    watchers,
    streams: Math.min(int('streams', values.streams, 1, 100_000), watchers),
    rate: int('rate', values.rate, 1, 100_000),
    seconds: int('seconds', values.seconds, 1, 600),
    rounds: int('rounds', values.rounds, 1, 20),
    workers: int('workers', values.workers, 1, 32),
    conns: int('conns', values.conns, 1, 64),
    prefix,
    keys: values.keys !== undefined ? int('keys', values.keys, 1, watchers) : prefix ? Math.max(1, Math.floor(watchers / 10)) : watchers,
    valueSize: int('value-size', values['value-size'], 8, 1 << 20),
    systems: systems as SystemName[],
    etcd: values.etcd,
    keep: values.keep,
    drainSeconds: int('drain', values.drain, 1, 300),
  };
}

/** One started member of either system. */
interface Running {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

async function startSystem(name: SystemName, dir: string, opt: Options, track: (r: Running) => void): Promise<Running> {
  if (name === 'tsetcd') {
    buildTsetcd();
    const c = await LocalCluster.create({ size: 1, baseDir: dir, output: 'file', built: true });
    c.startAll();
    const m = c.members[0];
    const pid = m?.process?.pid;
    if (!m || pid === undefined) throw new Error('tsetcd did not start');
    const r: Running = { endpoint: m.clientUrl, pid, stop: () => c.stopAll('SIGTERM') };
    track(r);
    return r;
  }
  const e: RealEtcdCluster = await startRealEtcdCluster(1, { bin: opt.etcd, baseDir: dir, logToFiles: true, waitHealthy: false });
  const m = e.members[0];
  if (!m) throw new Error('etcd did not start');
  const r: Running = { endpoint: m.clientUrl, pid: m.pid, stop: () => e.stop('SIGTERM') };
  track(r);
  return r;
}

class Pool {
  readonly workers: Worker[] = [];
  private readonly waiting: { type: Reply['type']; worker: number; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];

  async start(n: number): Promise<void> {
    const ready: Promise<Reply>[] = [];
    for (let i = 0; i < n; i++) {
      const w = startModuleWorker(import.meta.url, { index: i });
      this.workers.push(w);
      w.on('message', (m: Reply) => {
        if (m.type === 'fatal') {
          for (const p of this.waiting.splice(0)) p.reject(new Error(`worker ${i}: ${m.error}`));
          return;
        }
        const at = this.waiting.findIndex((p) => p.worker === i && p.type === m.type);
        if (at >= 0) this.waiting.splice(at, 1)[0]?.resolve(m);
      });
      w.on('error', (e) => {
        for (const p of this.waiting.splice(0)) p.reject(e);
      });
      ready.push(this.expect(i, 'ready', 30_000));
    }
    await Promise.all(ready);
  }

  /** The next reply of `type` from worker i, within timeoutMs. */
  expect<T extends Reply>(i: number, type: T['type'], timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = {
        type,
        worker: i,
        resolve: (r: Reply) => {
          clearTimeout(t);
          resolve(r as T);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new Error(`worker ${i}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(entry);
    });
  }

  /** Sends an order to every worker and waits for each one's reply of `type`. */
  async all<T extends Reply>(order: (i: number) => Order, type: T['type'] | undefined, timeoutMs: number): Promise<T[]> {
    const replies = type === undefined ? [] : this.workers.map((_, i) => this.expect<T>(i, type, timeoutMs));
    for (const [i, w] of this.workers.entries()) w.postMessage(order(i));
    return Promise.all(replies);
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.postMessage({ type: 'close' } satisfies Order);
    await Promise.all(this.workers.map((w) => Promise.race([new Promise((r) => w.once('exit', r)), sleep(2000).then(() => w.terminate())])));
    this.workers.length = 0;
  }
}

interface RunRow {
  system: SystemName;
  round: number;
  watchers: number;
  streams: number;
  createS: number;
  puts: number;
  putErrors: number;
  putErrorSamples: string[];
  putsPerSec: number;
  /** Put acknowledgement latency: how long the put itself took. */
  putP50: number;
  putP99: number;
  expected: number;
  received: number;
  missing: number;
  watchersMissing: number;
  extra: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  rssBefore: number;
  rssWatchers: number;
  rssEnd: number;
  serverCpu: number;
  genCpu: number;
  genThreadCpu: number;
  genElu: number;
  /** Event-loop utilisation of the main thread, which sends the puts, during the put phase. */
  putterElu: number;
  /** The rest of the machine: /proc/stat busy minus server and generator (other people's work). */
  othersCpu: number;
  workerErrors: string[];
}

/** Puts at `rate`/s for `seconds`; returns acknowledged puts per key, errors, and the put count. */
async function putPhase(
  endpoint: string,
  l: Layout,
  opt: Options,
): Promise<{ putsPerKey: Uint32Array; puts: number; errors: number; samples: string[]; seconds: number; putLatenciesMs: Float64Array }> {
  const c = new EtcdClient({ endpoints: [endpoint], timeoutMs: 5000 });
  const putsPerKey = new Uint32Array(l.keys);
  const total = opt.rate * opt.seconds;
  const maxInFlight = Math.max(100, opt.rate);
  const value = Buffer.alloc(opt.valueSize, 'v');
  let sent = 0;
  let done = 0;
  let acked = 0;
  let errors = 0;
  const samples = new Set<string>();
  const putLat = new Float64Array(total);
  const start = performance.now();
  const endBy = start + opt.seconds * 1000;
  try {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * opt.rate) / 1000));
        // Bounded: at most `due - sent` sends per tick, and never more than maxInFlight waiting.
        while (sent < due && sent - done < maxInFlight) {
          const k = sent % l.keys;
          const v = Buffer.from(value);
          const sentAt = nowMs();
          v.writeDoubleLE(sentAt, 0);
          sent++;
          c.put({ key: putKey(l, k), value: v }).then(
            () => {
              putLat[acked] = nowMs() - sentAt;
              putsPerKey[k] = (putsPerKey[k] as number) + 1;
              acked++;
              done++;
            },
            (e: unknown) => {
              errors++;
              done++;
              if (samples.size < 5) samples.add(e instanceof Error ? e.message : String(e));
            },
          );
        }
        if ((sent >= total || performance.now() >= endBy) && done === sent) resolve();
        else if (performance.now() < endBy + 10_000) setTimeout(tick, 2);
        else resolve();
      };
      tick();
    });
  } finally {
    c.close();
  }
  return { putsPerKey, puts: acked, errors, samples: [...samples], seconds: (performance.now() - start) / 1000, putLatenciesMs: putLat.slice(0, acked).sort() };
}

async function runOne(system: SystemName, round: number, opt: Options, pool: Pool, baseDir: string, track: (r: Running | undefined) => void): Promise<RunRow> {
  const l: Layout = { watchers: opt.watchers, streams: opt.streams, keys: opt.keys, prefix: opt.prefix };
  const dir = path.join(baseDir, `${system}-${round}`);
  const sys = await startSystem(system, dir, opt, track);
  try {
    await waitWritable(sys.endpoint, 60_000);
    await sleep(1000);
    const rssBefore = rssMiB(sys.pid);

    const shares: number[][] = pool.workers.map(() => []);
    for (let s = 0; s < l.streams; s++) shares[s % shares.length]?.push(s);
    const setupTimeoutMs = 60_000 + l.watchers; // 1 ms per watcher on top of a minute
    const t0 = performance.now();
    const setups = await pool.all<SetupDone>(
      (i) => ({ type: 'setup', endpoint: sys.endpoint, layout: l, streams: shares[i] ?? [], conns: opt.conns, timeoutMs: 5000 }),
      'setup-done',
      setupTimeoutMs,
    );
    const createS = (performance.now() - t0) / 1000;
    const created = setups.reduce((n, s) => n + s.watchers, 0);
    if (created !== l.watchers) throw new Error(`created ${created} watchers, wanted ${l.watchers}`);
    await sleep(1000);
    const rssWatchers = rssMiB(sys.pid);
    console.error(`${system} round ${round}: ${created} watchers on ${l.streams} streams in ${createS.toFixed(1)} s; RSS ${rssBefore.toFixed(0)} -> ${rssWatchers.toFixed(0)} MiB`);

    await pool.all(() => ({ type: 'window' }), undefined, 0);
    const cpu0 = { at: performance.now(), server: cpuSeconds(`/proc/${sys.pid}/stat`) ?? NaN, gen: process.cpuUsage(), machine: machineBusySeconds() };
    const mainElu0 = performance.eventLoopUtilization();
    const put = await putPhase(sys.endpoint, l, opt);
    const putterElu = performance.eventLoopUtilization(mainElu0).utilization;
    // Wait (bounded) for the events still on their way.
    let expectedTotal = 0;
    for (let k = 0; k < l.keys; k++) expectedTotal += (put.putsPerKey[k] as number) * matchesOfKey(l, k);
    const drainBy = Date.now() + opt.drainSeconds * 1000;
    for (;;) {
      const ps = await pool.all<Progress>(() => ({ type: 'progress' }), 'progress', 10_000);
      const got = ps.reduce((n, p) => n + p.received, 0);
      if (got >= expectedTotal || Date.now() > drainBy) break;
      await sleep(100);
    }
    const cpu1 = { at: performance.now(), server: cpuSeconds(`/proc/${sys.pid}/stat`) ?? NaN, gen: process.cpuUsage(), machine: machineBusySeconds() };
    const rssEnd = rssMiB(sys.pid);
    const fin = await pool.all<Finished>(() => ({ type: 'finish', putsPerKey: put.putsPerKey }), 'finished', 30_000);

    const wallS = (cpu1.at - cpu0.at) / 1000;
    const lat = new Float64Array(fin.reduce((n, f) => n + f.latenciesMs.length, 0));
    let off = 0;
    for (const f of fin) {
      lat.set(f.latenciesMs, off);
      off += f.latenciesMs.length;
    }
    lat.sort();
    const row: RunRow = {
      system,
      round,
      watchers: created,
      streams: l.streams,
      createS,
      puts: put.puts,
      putErrors: put.errors,
      putErrorSamples: put.samples,
      putsPerSec: put.puts / put.seconds,
      putP50: percentile(put.putLatenciesMs, 0.5),
      putP99: percentile(put.putLatenciesMs, 0.99),
      expected: fin.reduce((n, f) => n + f.expected, 0),
      received: fin.reduce((n, f) => n + f.received, 0),
      missing: fin.reduce((n, f) => n + f.missing, 0),
      watchersMissing: fin.reduce((n, f) => n + f.watchersMissing, 0),
      extra: fin.reduce((n, f) => n + f.extra, 0),
      p50: percentile(lat, 0.5),
      p90: percentile(lat, 0.9),
      p99: percentile(lat, 0.99),
      max: lat.length > 0 ? (lat[lat.length - 1] as number) : NaN,
      rssBefore,
      rssWatchers,
      rssEnd,
      serverCpu: (100 * (cpu1.server - cpu0.server)) / wallS,
      genCpu: (100 * ((cpu1.gen.user - cpu0.gen.user + cpu1.gen.system - cpu0.gen.system) / 1e6)) / wallS,
      genThreadCpu: Math.max(...fin.map((f) => f.threadCpu)),
      genElu: 100 * Math.max(...fin.map((f) => f.elu)),
      putterElu: 100 * putterElu,
      othersCpu: 0,
      workerErrors: [...new Set(fin.flatMap((f) => f.errors))],
    };
    row.othersCpu = (100 * (cpu1.machine - cpu0.machine)) / wallS - row.serverCpu - row.genCpu;
    if (row.expected !== expectedTotal) throw new Error(`workers expected ${row.expected} events, the put phase ${expectedTotal}`);
    console.error(
      `${system} round ${round}: ${f0(row.putsPerSec)} puts/s (put p50 ${f2(row.putP50)} p99 ${f2(row.putP99)} ms), events received ${row.received} of ${row.expected} expected (missing ${row.missing} on ${row.watchersMissing} watchers, extra ${row.extra}), ` +
        `latency p50 ${f2(row.p50)} p90 ${f2(row.p90)} p99 ${f2(row.p99)} max ${f2(row.max)} ms, RSS end ${f0(row.rssEnd)} MiB, server CPU ${f0(row.serverCpu)}%, ` +
        `gen ${f0(row.genCpu)}% (busiest worker ${f0(row.genThreadCpu)}%, elu ${f0(row.genElu)}%; putter elu ${f0(row.putterElu)}%), others ${f0(row.othersCpu)}%` +
        (row.putErrors ? ` put errors ${row.putErrors}: ${row.putErrorSamples.join(' | ')}` : '') +
        (row.workerErrors.length ? ` watch errors: ${row.workerErrors.join(' | ')}` : ''),
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
  const perWatcherKiB = (r: RunRow): number => ((r.rssWatchers - r.rssBefore) * 1024) / r.watchers;
  const lines: string[] = [];
  lines.push('# Watch fan-out: tsetcd vs etcd 3.4, one member each, same machine');
  lines.push('');
  lines.push(
    `${new Date().toISOString()} — ${cpus.length} x ${cpus[0]?.model ?? '?'}, Node ${process.version}, etcd ${etcdVersionCache ?? 'unknown'}. ` +
      `${opt.watchers} watchers (${opt.prefix ? `prefix watchers over ${opt.keys} prefixes` : `exact keys over ${opt.keys} keys`}) on ${opt.streams} streams, ` +
      `${opt.workers} receiver worker thread(s) x ${opt.conns} connection(s); puts at ${opt.rate}/s for ${opt.seconds} s from the main thread, ${opt.valueSize}-byte values; ` +
      `a fresh member per run, runs alternating (${opt.systems.join(', ')}), ${opt.rounds} round(s).`,
  );
  lines.push('');
  lines.push(
    'Latency: receive time minus put send time, per event, same clock (put p50/p99: the put\'s own acknowledgement, for comparison). Events: expected = acknowledged puts x watchers on the key; missing/extra per watcher. ' +
      'RSS: the server process (/proc/<pid>/status) before watchers, after creating them, at the end; KiB/watcher = growth from creating them. ' +
      'CPU % is of one core over the put window (and the drain): server = the member process, all threads; gen = this program, all threads; ' +
      'gen thr / ELU = the busiest receiver worker thread; putter ELU = the main thread sending the puts (near 100% = the generator is the limit); others = the rest of the machine (/proc/stat busy minus server and generator): noise from other work.',
  );
  lines.push('');
  lines.push('| system | round | watchers | streams | create s | puts/s | put p50 ms | put p99 ms | events expected | received | missing (watchers) | extra | p50 ms | p90 ms | p99 ms | max ms | RSS before MiB | RSS watchers MiB | RSS end MiB | KiB/watcher | server CPU % | gen CPU % | gen thr % | gen ELU % | putter ELU % | others CPU % |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    lines.push(
      `| ${r.system} | ${r.round} | ${r.watchers} | ${r.streams} | ${f1(r.createS)} | ${f0(r.putsPerSec)} | ${f2(r.putP50)} | ${f2(r.putP99)} | ${r.expected} | ${r.received} | ${r.missing} (${r.watchersMissing}) | ${r.extra} | ` +
        `${f2(r.p50)} | ${f2(r.p90)} | ${f2(r.p99)} | ${f2(r.max)} | ${f0(r.rssBefore)} | ${f0(r.rssWatchers)} | ${f0(r.rssEnd)} | ${f2(perWatcherKiB(r))} | ${f0(r.serverCpu)} | ${f0(r.genCpu)} | ${f0(r.genThreadCpu)} | ${f0(r.genElu)} | ${f0(r.putterElu)} | ${f0(r.othersCpu)} |`,
    );
  }
  const med = (sys: SystemName, f: (r: RunRow) => number): number => median(rows.filter((r) => r.system === sys).map(f));
  if (opt.systems.includes('tsetcd') && opt.systems.includes('etcd')) {
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
    fig('watcher creation s', (r) => r.createS, f1);
    fig('puts/s', (r) => r.putsPerSec, f0);
    fig('put p50 ms', (r) => r.putP50, f2);
    fig('put p99 ms', (r) => r.putP99, f2);
    fig('events missing', (r) => r.missing, f0);
    fig('latency p50 ms', (r) => r.p50, f2);
    fig('latency p90 ms', (r) => r.p90, f2);
    fig('latency p99 ms', (r) => r.p99, f2);
    fig('latency max ms', (r) => r.max, f2);
    fig('RSS before watchers MiB', (r) => r.rssBefore, f0);
    fig('RSS after watchers MiB', (r) => r.rssWatchers, f0);
    fig('RSS at end MiB', (r) => r.rssEnd, f0);
    fig('RSS KiB per watcher', perWatcherKiB, f2);
    fig('server CPU %', (r) => r.serverCpu, f0);
    fig('generator CPU %', (r) => r.genCpu, f0);
  }
  const problems = rows.filter((r) => r.missing > 0 || r.putErrors > 0 || r.workerErrors.length > 0);
  if (problems.length > 0) {
    lines.push('');
    lines.push('## Problems');
    lines.push('');
    for (const r of problems) {
      lines.push(
        `- ${r.system} round ${r.round}: ${r.missing} events missing on ${r.watchersMissing} watchers; ${r.putErrors} put errors${r.putErrorSamples.length ? ` (${r.putErrorSamples.join(' | ')})` : ''}` +
          `${r.workerErrors.length ? `; watch: ${r.workerErrors.join(' | ')}` : ''}`,
      );
    }
  }
  const saturated = rows.filter((r) => r.genThreadCpu > 85 || r.putterElu > 85);
  if (saturated.length > 0) {
    lines.push('');
    lines.push(`**Warning:** a receiver worker thread used > 85% of a core, or the putter's event loop was > 85% busy, in ${saturated.map((r) => `${r.system}/r${r.round}`).join(', ')}: the generator may be the limit there.`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opt = parseOptions();
  if (opt.systems.includes('etcd') && !existsSync(opt.etcd)) throw new Error(`no etcd at ${opt.etcd}`);
  etcdVersionCache = await readEtcdVersion(opt.etcd).catch(() => undefined);
  const runs = opt.rounds * opt.systems.length;
  const perRunMs = 60_000 + (60_000 + opt.watchers) + opt.seconds * 1000 + opt.drainSeconds * 1000 + 40_000;
  const budgetMs = 60_000 + runs * perRunMs;
  const baseDir = await mkdtemp(path.join(os.tmpdir(), 'bench-watch-'));

  let running: Running | undefined;
  let pool: Pool | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      await pool?.close().catch(() => undefined);
      await running?.stop().catch(() => undefined);
      if (!opt.keep) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
      else console.error(`data and logs kept in ${baseDir}`);
    })();
    return cleaning;
  };
  // Last resort: SIGKILL the member we started, by PID.
  process.on('exit', () => {
    if (running) {
      try {
        process.kill(running.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const disarm = guardRun(cleanup, budgetMs);

  try {
    pool = new Pool();
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
    await writeResults('watch', report);
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
