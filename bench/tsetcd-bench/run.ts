/**
 * tsetcd-bench's main thread: lays clients, connections and watch streams out over the worker
 * threads, runs each command's phases, and turns what the workers send back into etcd-style
 * summaries plus the generator's and the servers' CPU.
 *
 * Layout, as etcd's benchmark where threads allow: connection k goes to endpoint k mod E (etcd
 * 3.4 dials its connections round-robin over the endpoints) and lives in worker k mod W; client
 * i uses connection i mod C; watch stream s is opened by client s mod clients. Every worker
 * holds at least one connection of its own, so C = max(--conns, W) (reported when larger).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EtcdClient } from '../../src/client/index.js';
import { pidCpuSeconds } from '../common/proc.js';
import { WorkerPool } from '../common/workers.js';
import type { Command, Config } from './flags.js';
import { numberedKey, randInt, randomBytes } from './keys.js';
import {
  CTL_CREATED,
  CTL_DONE,
  CTL_EVENTS,
  CTL_NEXT,
  CTL_SLOTS,
  CTL_STOP,
  nowMs,
  type ClientSpec,
  type CollectReply,
  type ConnSpec,
  type Job,
  type Order,
  type Reply,
  type RunReply,
  type StreamSpec,
  type WatchReply,
} from './protocol.js';
import { computeStats, type Stats } from './report.js';

type OrderBody = Order extends infer O ? (O extends { id: number } ? Omit<O, 'id'> : never) : never;

const WORKER_URL = new URL(`./worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url).href;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** After the last put, how long the watch phase waits for events that stopped arriving. */
const WATCH_STALL_MS = 10_000;
/** How often the progress bar is updated. */
const PROGRESS_MS = 200;

export interface ProgressSink {
  start(total: number, label: string): void;
  update(value: number): void;
  stop(): void;
}

export const NO_PROGRESS: ProgressSink = { start: () => undefined, update: () => undefined, stop: () => undefined };

export interface Section {
  /** etcd's heading before the summary (e.g. "Watch creation summary"), if it prints one. */
  readonly title: string | undefined;
  readonly stats: Stats;
}

export interface BenchResult {
  readonly command: Command['name'];
  /** Lines etcd prints before the summary (e.g. "bench with linearizable range"). */
  readonly preamble: string[];
  readonly sections: Section[];
  /** Figures etcd does not print: STM retries, watch events expected and received. */
  readonly notes: string[];
  readonly extra: Record<string, number>;
  readonly generator: {
    readonly workers: number;
    readonly conns: number;
    readonly clients: number;
    readonly endpoints: string[];
    readonly cpuSeconds: number;
    readonly wallSeconds: number;
    /** Percent of one core, all threads of this process. */
    readonly cpuPct: number;
    readonly cores: number;
    /** Busiest worker thread's event-loop utilisation, percent. */
    readonly busiestElu: number;
    readonly busiestThreadCpu: number;
  };
  readonly servers: { readonly pid: number; readonly cpuPct: number }[];
  /** The run was cut short (Ctrl-C or the deadline). */
  readonly aborted: boolean;
}

interface Window {
  at: number;
  cpu: NodeJS.CpuUsage;
  pids: number[];
}

/** One tsetcd-bench run: `run()` once, `abort()` from a signal handler, `close()` at the end. */
export class BenchRunner {
  private readonly pool = new WorkerPool<OrderBody, Reply>(WORKER_URL, (index) => ({ tsetcdBenchWorker: true, index }));
  private readonly ctlBuf = new SharedArrayBuffer(CTL_SLOTS * 4);
  private readonly ctl = new Int32Array(this.ctlBuf);
  private aborted = false;
  private conns = 0;
  private endpoints: string[] = [];
  private window: Window | undefined;
  private elus: number[] = [];
  private threadCpus: number[] = [];

  constructor(
    private readonly cfg: Config,
    private readonly progress: ProgressSink = NO_PROGRESS,
    private readonly cores = 1,
  ) {}

  /** Stops claiming new requests; requests in flight finish (each within --request-timeout). */
  abort(): void {
    this.aborted = true;
    Atomics.store(this.ctl, CTL_STOP, 1);
  }

  async close(): Promise<void> {
    this.progress.stop();
    await this.pool.close({ type: 'close' });
  }

  async run(): Promise<BenchResult> {
    const g = this.cfg.global;
    const c = this.cfg.command;
    this.endpoints = g.targetLeader ? [await findLeader(g.endpoints)] : [...g.endpoints];
    const parallel = c.name === 'watch' || c.name === 'watch-latency' ? Math.max(g.clients, c.streams) : g.clients;
    const workers = Math.max(1, Math.min(g.workers, parallel));
    this.conns = Math.max(g.conns, workers);
    await this.pool.start(workers);
    const connsOf = (w: number): ConnSpec[] => {
      const out: ConnSpec[] = [];
      for (let k = w; k < this.conns; k += workers) out.push({ index: k, endpoint: this.endpoints[k % this.endpoints.length] as string });
      return out;
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => this.pool.call(w, { type: 'open', conns: connsOf(w), timeoutMs: g.requestTimeoutMs, ctl: this.ctlBuf }, 30_000)));

    const preamble: string[] = [];
    const notes: string[] = [];
    const extra: Record<string, number> = {};
    const sections: Section[] = [];
    switch (c.name) {
      case 'put':
        sections.push({ title: undefined, stats: (await this.unary({ kind: 'put', keySize: c.keySize, keySpaceSize: c.keySpaceSize, sequential: c.sequentialKeys, value: randomBytes(c.valSize) }, g.clients, c.total, c.rate)).stats });
        break;
      case 'range':
        preamble.push(`bench with ${c.consistency === 'l' ? 'linearizable' : 'serializable'} range`);
        sections.push({
          title: undefined,
          stats: (await this.unary({ kind: 'range', key: Buffer.from(c.key), end: Buffer.from(c.end), serializable: c.consistency === 's', limit: c.limit }, g.clients, c.total, c.rate)).stats,
        });
        break;
      case 'txn-put':
        sections.push({ title: undefined, stats: (await this.unary({ kind: 'txn-put', keySize: c.keySize, keySpaceSize: c.keySpaceSize, txnOps: c.txnOps, value: randomBytes(c.valSize) }, g.clients, c.total, c.rate)).stats });
        break;
      case 'lease-keepalive':
        sections.push({ title: undefined, stats: (await this.unary({ kind: 'lease-keepalive', ttlSeconds: 100 }, g.clients, c.total, 0)).stats });
        break;
      case 'stm': {
        const r = await this.unary({ kind: 'stm', keys: c.keys, keysPerTxn: c.keysPerTxn, writePercent: c.txnWrPercent, valSize: c.valSize, isolation: c.isolation, locker: c.locker }, g.clients, c.total, c.rate);
        sections.push({ title: undefined, stats: r.stats });
        const committed = r.stats.lats.length;
        notes.push(`STM retries: ${r.retries} (${committed > 0 ? (r.retries / committed).toFixed(3) : '-'} per committed transaction)`);
        extra['retries'] = r.retries;
        break;
      }
      case 'watch': {
        const watched: Buffer[] = [];
        for (let i = 0; i < c.watchedKeyTotal; i++) watched.push(numberedKey(c.keySize, c.sequentialKeys ? i % c.keySpaceSize : randInt(c.keySpaceSize)));
        const watchers = c.streams * c.watchPerStream;
        const perKey = new Map<string, number>();
        for (let w = 0; w < watchers; w++) {
          const k = (watched[w % watched.length] as Buffer).toString('hex');
          perKey.set(k, (perKey.get(k) ?? 0) + 1);
        }
        let eventsTotal = 0;
        for (let j = 0; j < c.putTotal; j++) eventsTotal += perKey.get((watched[j % watched.length] as Buffer).toString('hex')) ?? 0;
        const streams: StreamSpec[] = [];
        for (let s = 0; s < c.streams; s++) {
          const keys: Uint8Array[] = [];
          for (let i = 0; i < c.watchPerStream; i++) keys.push(watched[(s * c.watchPerStream + i) % watched.length] as Buffer);
          streams.push({ index: s, conn: this.connOfClient(s % g.clients), keys });
        }
        const w = await this.watchPhase(streams, false, watchers, watched, g.clients, c.putTotal, c.putRate, c.valSize, eventsTotal);
        sections.push({ title: 'Watch creation summary', stats: w.create }, { title: 'Watch events received summary', stats: w.events });
        notes.push(`Watch events: ${w.received} received of ${eventsTotal} expected${w.unattributed ? `, ${w.unattributed} without a send time` : ''}; puts: ${w.puts.lats.length} acknowledged of ${c.putTotal}`);
        Object.assign(extra, { eventsExpected: eventsTotal, eventsReceived: w.received, putsAcknowledged: w.puts.lats.length });
        break;
      }
      case 'watch-latency': {
        const key = randomBytes(c.keySize);
        const watchers = c.streams * c.watchersPerStream;
        const streams: StreamSpec[] = [];
        for (let s = 0; s < c.streams; s++) streams.push({ index: s, conn: this.connOfClient(s % g.clients), keys: Array.from({ length: c.watchersPerStream }, () => key) });
        const w = await this.watchPhase(streams, c.prevKv, watchers, [key], 1, c.putTotal, c.putRate, c.valSize, c.putTotal * watchers);
        sections.push({ title: 'Put summary', stats: w.puts }, { title: 'Watch events summary', stats: w.events });
        notes.push(`Watch events: ${w.received} received of ${c.putTotal * watchers} expected${w.unattributed ? `, ${w.unattributed} without a send time` : ''}`);
        Object.assign(extra, { eventsExpected: c.putTotal * watchers, eventsReceived: w.received });
        break;
      }
    }
    const end = this.window ? this.endWindow(this.window) : undefined;
    return {
      command: c.name,
      preamble,
      sections,
      notes,
      extra,
      generator: {
        workers,
        conns: this.conns,
        clients: g.clients,
        endpoints: this.endpoints,
        cpuSeconds: end?.cpuSeconds ?? NaN,
        wallSeconds: end?.wallSeconds ?? NaN,
        cpuPct: end ? (100 * end.cpuSeconds) / end.wallSeconds : NaN,
        cores: this.cores,
        busiestElu: this.elus.length ? 100 * Math.max(...this.elus) : NaN,
        busiestThreadCpu: this.threadCpus.length ? Math.max(...this.threadCpus) : NaN,
      },
      servers: end?.servers ?? [],
      aborted: this.aborted,
    };
  }

  /** Worker of connection k. */
  private workerOfConn(k: number): number {
    return k % this.pool.size;
  }

  private connOfClient(i: number): number {
    return i % this.conns;
  }

  /** The measured window: generator CPU (all threads) and the servers' CPU. */
  private startWindow(): void {
    this.window = { at: performance.now(), cpu: process.cpuUsage(), pids: this.cfg.global.serverPids.map(pidCpuSeconds) };
  }

  private endWindow(w: Window): { cpuSeconds: number; wallSeconds: number; servers: { pid: number; cpuPct: number }[] } {
    const wallSeconds = (performance.now() - w.at) / 1000;
    const cpu = process.cpuUsage(w.cpu);
    const servers = this.cfg.global.serverPids.map((pid, i) => ({ pid, cpuPct: (100 * (pidCpuSeconds(pid) - (w.pids[i] ?? NaN))) / wallSeconds }));
    return { cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds, servers };
  }

  /** Polls a shared counter into the progress bar until `done` settles. */
  private async withProgress<T>(slot: number, total: number, label: string, done: Promise<T>): Promise<T> {
    this.progress.start(total, label);
    const timer = setInterval(() => this.progress.update(Math.min(total, Atomics.load(this.ctl, slot))), PROGRESS_MS);
    try {
      return await done;
    } finally {
      clearInterval(timer);
      this.progress.update(Math.min(total, Atomics.load(this.ctl, slot)));
      this.progress.stop();
    }
  }

  /** `clients` clients run `total` requests of `job`, at most `rate` per second (0: no limit). */
  private async unary(job: Job, clients: number, total: number, rate: number, window = true): Promise<{ stats: Stats; retries: number; replies: RunReply[] }> {
    const g = this.cfg.global;
    const byWorker: ClientSpec[][] = Array.from({ length: this.pool.size }, () => []);
    for (let i = 0; i < clients; i++) {
      const conn = this.connOfClient(i);
      byWorker[this.workerOfConn(conn)]?.push({ index: i, conn });
    }
    const setupMs = 60_000 + clients * 20;
    const prepared = await Promise.all(byWorker.map((cs, w) => this.pool.call<Extract<Reply, { type: 'prepared' }>>(w, { type: 'prepare', job, clients: cs }, setupMs)));
    const setupErrors = prepared.flatMap((p) => p.errors);
    if (setupErrors.length > 0) {
      const n = setupErrors.reduce((a, [, k]) => a + k, 0);
      if (n >= clients) throw new Error(`no client could start: ${setupErrors.map(([m]) => m).join(' | ')}`);
      process.stderr.write(`warning: ${n} of ${clients} clients could not start: ${setupErrors.map(([m]) => m).join(' | ')}\n`);
    }
    Atomics.store(this.ctl, CTL_NEXT, 0);
    Atomics.store(this.ctl, CTL_DONE, 0);
    const startAt = nowMs() + 20;
    if (window) this.startWindow();
    const runMs = g.deadlineSeconds * 1000 + g.requestTimeoutMs + 10_000;
    const replies = await this.withProgress(CTL_DONE, total, job.kind, this.pool.all<RunReply>(() => ({ type: 'run', startAt, total, rate }), runMs));
    const lastEnd = Math.max(...replies.map((r) => (Number.isNaN(r.lastEndAt) ? -Infinity : r.lastEndAt)));
    const totalSeconds = Number.isFinite(lastEnd) ? Math.max(1e-9, Math.round((lastEnd - startAt) * 1e6) / 1e9) : (nowMs() - startAt) / 1000;
    for (const r of replies) {
      if (r.lats.length > 0 || r.errors.length > 0) {
        this.elus.push(r.elu);
        this.threadCpus.push(r.threadCpu);
      }
    }
    const stats = computeStats(concat(replies.map((r) => r.lats)), totalSeconds, mergeErrors(replies.map((r) => r.errors)));
    return { stats, retries: replies.reduce((n, r) => n + r.retries, 0), replies };
  }

  /**
   * Creates the watchers, then puts `putTotal` timed values (put j to keys[j mod keys.length])
   * from `putClients` clients at `putRate`, and waits until `eventsTotal` events arrived or they
   * stop arriving. Event latency = receipt minus the put's send time, carried in the value.
   */
  private async watchPhase(
    streams: StreamSpec[],
    prevKv: boolean,
    watchers: number,
    keys: Buffer[],
    putClients: number,
    putTotal: number,
    putRate: number,
    valSize: number,
    eventsTotal: number,
  ): Promise<{ create: Stats; puts: Stats; events: Stats; received: number; unattributed: number }> {
    const byWorker: StreamSpec[][] = Array.from({ length: this.pool.size }, () => []);
    for (const s of streams) byWorker[this.workerOfConn(s.conn)]?.push(s);
    Atomics.store(this.ctl, CTL_CREATED, 0);
    Atomics.store(this.ctl, CTL_EVENTS, 0);
    const t0 = nowMs();
    const createMs = 60_000 + watchers * 2;
    const created = await this.withProgress(CTL_CREATED, watchers, 'watchers', Promise.all(byWorker.map((ss, w) => this.pool.call<WatchReply>(w, { type: 'watch', streams: ss, prevKv }, createMs))));
    const create = computeStats(concat(created.map((r) => r.lats)), (nowMs() - t0) / 1000, mergeErrors(created.map((r) => r.errors)));

    const putStart = nowMs();
    this.startWindow();
    this.progress.start(eventsTotal, 'events');
    const timer = setInterval(() => this.progress.update(Math.min(eventsTotal, Atomics.load(this.ctl, CTL_EVENTS))), PROGRESS_MS);
    let puts: Stats;
    let collected: CollectReply[];
    try {
      puts = (await this.unary({ kind: 'timed-put', keys, valSize }, putClients, putTotal, putRate, false)).stats;
      // Bounded: ends when every event arrived, when none arrived for WATCH_STALL_MS, or on abort.
      let last = Atomics.load(this.ctl, CTL_EVENTS);
      let lastChange = Date.now();
      while (!this.aborted) {
        const now = Atomics.load(this.ctl, CTL_EVENTS);
        if (now >= eventsTotal) break;
        if (now !== last) {
          last = now;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > WATCH_STALL_MS) break;
        await sleep(50);
      }
      collected = await this.pool.all<CollectReply>(() => ({ type: 'collect' }), 30_000);
    } finally {
      clearInterval(timer);
      this.progress.stop();
    }
    for (const r of collected) {
      this.elus.push(r.elu);
      this.threadCpus.push(r.threadCpu);
    }
    const lastEvent = Math.max(...collected.map((r) => (Number.isNaN(r.lastEventAt) ? -Infinity : r.lastEventAt)));
    const eventSeconds = Number.isFinite(lastEvent) ? (lastEvent - putStart) / 1000 : (nowMs() - putStart) / 1000;
    const events = computeStats(concat(collected.map((r) => r.lats)), eventSeconds, mergeErrors(collected.map((r) => r.errors)));
    return {
      create,
      puts,
      events,
      received: Atomics.load(this.ctl, CTL_EVENTS),
      unattributed: collected.reduce((n, r) => n + r.unattributed, 0),
    };
  }
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function mergeErrors(parts: readonly [string, number][][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of parts) for (const [msg, n] of p) m.set(msg, (m.get(msg) ?? 0) + n);
  return m;
}

/** The client URL of the member that leads, as --target-leader wants. */
async function findLeader(endpoints: readonly string[]): Promise<string> {
  const c = new EtcdClient({ endpoints, timeoutMs: 5000 });
  try {
    const st = await Promise.all(endpoints.map((_, i) => c.status(i).catch(() => undefined)));
    for (const [i, s] of st.entries()) if (s && s.leader !== 0n && s.header.memberId === s.leader) return endpoints[i] as string;
    throw new Error(`no endpoint of ${endpoints.join(',')} is the leader`);
  } finally {
    c.close();
  }
}
