/**
 * A tsetcd-bench worker thread: holds its share of the connections, clients and watch streams,
 * and runs what the main thread orders (see protocol.ts). Each thread has its own EtcdClients,
 * so no connection is shared between threads and a busy thread slows only its own clients.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { ClientError, EtcdClient, type Compare, type LeaseKeepAliveStream, type RequestOp, type WatchStream } from '../../src/client/index.js';
import { threadCpuSeconds } from '../common/proc.js';
import { numberedKey, randInt, randomBytes } from './keys.js';
import { newLocker } from './lockers.js';
import {
  CTL_CREATED,
  CTL_DONE,
  CTL_EVENTS,
  CTL_NEXT,
  CTL_STOP,
  nowMs,
  type ClientSpec,
  type CollectReply,
  type Job,
  type Order,
  type Reply,
  type RunReply,
  type StreamSpec,
  type WatchReply,
} from './protocol.js';

const GO_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** An error as etcd's benchmark prints it: etcd's own text, else Go gRPC's "rpc error: ..." form. */
export function errorText(e: unknown): string {
  if (e instanceof ClientError) {
    if (e.message.startsWith('etcdserver:') || e.message.startsWith('mvcc:')) return e.message;
    return `rpc error: code = ${GO_CODES[e.code] ?? String(e.code)} desc = ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** A growable array of latencies in seconds. */
class LatencyLog {
  private buf: Float64Array<ArrayBuffer>;
  private n = 0;
  constructor(initial: number) {
    this.buf = new Float64Array(Math.max(16, Math.min(initial, 1 << 20)));
  }
  push(seconds: number): void {
    if (this.n === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = seconds;
  }
  get length(): number {
    return this.n;
  }
  take(): Float64Array<ArrayBuffer> {
    const out = this.buf.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

class ErrorCounts {
  private readonly m = new Map<string, number>();
  add(e: unknown): void {
    const t = errorText(e);
    // Bounded: at most 100 distinct messages, the rest under one line.
    const key = this.m.has(t) || this.m.size < 100 ? t : '(other errors)';
    this.m.set(key, (this.m.get(key) ?? 0) + 1);
  }
  take(): [string, number][] {
    const out = [...this.m.entries()];
    this.m.clear();
    return out;
  }
}

interface PreparedClient {
  /** Runs request number i; resolves to the number of retries it took (STM). */
  op(i: number): Promise<number>;
  close(): Promise<void>;
}

const MAX_STM_ATTEMPTS = 1000;

class WorkerState {
  private ctl: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private readonly conns = new Map<number, EtcdClient>();
  private clients: PreparedClient[] = [];
  private readonly streams: WatchStream[] = [];
  private readonly events = new LatencyLog(1 << 16);
  private readonly watchErrors = new ErrorCounts();
  private unattributed = 0;
  private lastEventAt = NaN;
  private watchElu0 = performance.eventLoopUtilization();
  private watchCpu0 = { at: performance.now(), sec: threadCpuSeconds() };
  private closed = false;

  /**
   * Connects: one Status call per connection, so the connection set-up (TCP, HTTP/2 settings)
   * and the first-call costs are paid before the measured run, not inside its first requests.
   */
  async open(o: Extract<Order, { type: 'open' }>): Promise<void> {
    this.ctl = new Int32Array(o.ctl);
    for (const c of o.conns) this.conns.set(c.index, new EtcdClient({ endpoints: [c.endpoint], timeoutMs: o.timeoutMs }));
    await Promise.all([...this.conns.values()].map((c) => c.status().catch(() => undefined)));
  }

  private conn(index: number): EtcdClient {
    const c = this.conns.get(index);
    if (!c) throw new Error(`connection ${index} is not held by this worker`);
    return c;
  }

  async prepare(job: Job, clients: readonly ClientSpec[]): Promise<[string, number][]> {
    await this.closeClients();
    const errors = new ErrorCounts();
    const prepared = await Promise.all(
      clients.map(async (c) => {
        try {
          return await this.makeClient(job, this.conn(c.conn));
        } catch (e) {
          errors.add(e);
          return undefined;
        }
      }),
    );
    this.clients = prepared.filter((c): c is PreparedClient => c !== undefined);
    return errors.take();
  }

  private async makeClient(job: Job, c: EtcdClient): Promise<PreparedClient> {
    const done = async (): Promise<void> => undefined;
    switch (job.kind) {
      case 'put': {
        const value = Buffer.from(job.value);
        return {
          op: async (i) => {
            const k = numberedKey(job.keySize, job.sequential ? i % job.keySpaceSize : randInt(job.keySpaceSize));
            await c.put({ key: k, value });
            return 0;
          },
          close: done,
        };
      }
      case 'range': {
        const req = {
          key: Buffer.from(job.key),
          ...(job.end.length > 0 ? { rangeEnd: Buffer.from(job.end) } : {}),
          ...(job.serializable ? { serializable: true } : {}),
          ...(job.limit > 0 ? { limit: job.limit } : {}),
        };
        return {
          op: async () => {
            await c.range(req);
            return 0;
          },
          close: done,
        };
      }
      case 'txn-put': {
        const value = Buffer.from(job.value);
        return {
          op: async (i) => {
            const success: RequestOp[] = [];
            for (let j = 0; j < job.txnOps; j++) success.push({ put: { key: numberedKey(job.keySize, (i * job.txnOps + j) % job.keySpaceSize), value } });
            await c.txn({ success });
            return 0;
          },
          close: done,
        };
      }
      case 'lease-keepalive': {
        // As etcd's benchmark: each client grants one lease before the run and keeps it alive.
        const id = (await c.leaseGrant(job.ttlSeconds)).id;
        let stream: LeaseKeepAliveStream = c.leaseKeepAlive();
        return {
          op: async () => {
            try {
              const r = await stream.send(id);
              if (r.ttl <= 0) throw new Error(`lease ${id} not found`);
              return 0;
            } catch (e) {
              // A stream that failed stays failed: the next request opens a new one.
              if (e instanceof ClientError) {
                stream.close();
                stream = c.leaseKeepAlive();
              }
              throw e;
            }
          },
          close: async () => {
            stream.close();
            await c.leaseRevoke(id).catch(() => undefined);
          },
        };
      }
      case 'stm': {
        if (job.locker === 'stm') return { op: () => this.stmTxn(c, job), close: done };
        const locker = await newLocker(job.locker, c);
        return {
          op: async () => {
            await locker.lock();
            try {
              return await this.stmTxn(c, job);
            } finally {
              await locker.unlock();
            }
          },
          close: () => locker.close(),
        };
      }
      case 'timed-put': {
        const keys = job.keys.map((k) => Buffer.from(k));
        return {
          op: async (i) => {
            const value = Buffer.alloc(job.valSize);
            value.writeDoubleLE(nowMs(), 0);
            await c.put({ key: keys[i % keys.length] as Buffer, value });
            return 0;
          },
          close: done,
        };
      }
    }
  }

  /**
   * One transaction of etcd's `benchmark stm` through a software transactional memory like
   * clientv3/concurrency's: read each key, overwrite the first writePercent of them, commit with
   * a txn whose compares check that nothing read has changed (none for read-committed), and run
   * it again on conflict. The failure branch reads the keys back, so a retry starts from fresh
   * values without another round of reads, as the Go STM's prefetch does.
   *
   * Isolation: c = no compares; r = each read key's mod_revision unchanged; s = reads after the
   * first at the first read's revision, serializably; ss = s, and written keys unchanged since
   * that revision too.
   */
  private async stmTxn(c: EtcdClient, job: Extract<Job, { kind: 'stm' }>): Promise<number> {
    const picked = pickDistinct(job.keysPerTxn, job.keys).map((n) => numberedKey(16, n));
    const writes = Math.floor((picked.length * job.writePercent) / 100);
    let prefetch: Map<string, { modRevision: number; revision: number }> | undefined;
    for (let attempt = 0; attempt < MAX_STM_ATTEMPTS; attempt++) {
      let rev = 0;
      const read: { key: Buffer; modRevision: number }[] = [];
      for (const key of picked) {
        const pre = prefetch?.get(key.toString('latin1'));
        if (pre) {
          if (rev === 0) rev = pre.revision;
          read.push({ key, modRevision: pre.modRevision });
          continue;
        }
        const pinned = (job.isolation === 's' || job.isolation === 'ss') && rev > 0;
        const r = await c.range({ key, ...(pinned ? { revision: rev, serializable: true } : {}) });
        if (rev === 0) rev = r.header.revision;
        read.push({ key, modRevision: r.kvs[0]?.modRevision ?? 0 });
      }
      const compare: Compare[] = [];
      if (job.isolation !== 'c') for (const r of read) compare.push({ key: r.key, target: 'mod', result: '=', value: r.modRevision });
      if (job.isolation === 'ss') for (let w = 0; w < writes; w++) compare.push({ key: picked[w] as Buffer, target: 'mod', result: '<', value: rev + 1 });
      const success: RequestOp[] = [];
      for (let w = 0; w < writes; w++) success.push({ put: { key: picked[w] as Buffer, value: randomBytes(job.valSize) } });
      const t = await c.txn({ compare, success, failure: picked.map((key) => ({ range: { key } })) });
      if (t.succeeded) return attempt;
      prefetch = new Map();
      for (const [i, op] of t.responses.entries()) {
        if (!('range' in op)) continue;
        prefetch.set((picked[i] as Buffer).toString('latin1'), { modRevision: op.range.kvs[0]?.modRevision ?? 0, revision: t.header.revision });
      }
    }
    throw new Error(`stm: no commit after ${MAX_STM_ATTEMPTS} attempts`);
  }

  async run(o: Extract<Order, { type: 'run' }>): Promise<Omit<RunReply, 'type' | 'id'>> {
    const lats = new LatencyLog(Math.ceil(o.total / Math.max(1, this.clients.length)));
    const errors = new ErrorCounts();
    let retries = 0;
    let lastEndAt = NaN;
    await sleepUntil(o.startAt);
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = { at: performance.now(), sec: threadCpuSeconds() };
    const ctl = this.ctl;
    const loop = async (client: PreparedClient): Promise<void> => {
      // Bounded: every pass claims a request number, and numbers past total end the loop.
      for (;;) {
        if (Atomics.load(ctl, CTL_STOP) !== 0) return;
        const i = Atomics.add(ctl, CTL_NEXT, 1);
        if (i >= o.total) return;
        if (o.rate > 0) await sleepUntil(o.startAt + (i * 1000) / o.rate);
        const t0 = performance.now();
        try {
          retries += await client.op(i);
          lats.push(msToSeconds(performance.now() - t0));
        } catch (e) {
          errors.add(e);
        }
        lastEndAt = nowMs();
        Atomics.add(ctl, CTL_DONE, 1);
      }
    };
    await Promise.all(this.clients.map(loop));
    const elu = performance.eventLoopUtilization(elu0).utilization;
    const threadCpu = (100 * (threadCpuSeconds() - cpu0.sec)) / ((performance.now() - cpu0.at) / 1000);
    return { lats: lats.take(), errors: errors.take(), lastEndAt, elu, threadCpu, retries };
  }

  /** Opens the streams and creates their watchers; resolves once every watcher is created. */
  async watch(streams: readonly StreamSpec[], prevKv: boolean): Promise<Omit<WatchReply, 'type' | 'id'>> {
    const created = new LatencyLog(streams.reduce((n, s) => n + s.keys.length, 0));
    const errors = new ErrorCounts();
    await Promise.all(
      streams.map(
        (spec) =>
          new Promise<void>((resolve, reject) => {
            const stream = this.conn(spec.conn).watch();
            this.streams.push(stream);
            const sentAt: number[] = [];
            let acknowledged = 0;
            if (spec.keys.length === 0) resolve();
            const read = async (): Promise<void> => {
              for await (const r of stream) {
                if (r.created) {
                  // The n-th created answers the n-th create on a stream.
                  const t = sentAt[acknowledged++];
                  if (t !== undefined) created.push(msToSeconds(performance.now() - t));
                  Atomics.add(this.ctl, CTL_CREATED, 1);
                  if (acknowledged === spec.keys.length) resolve();
                  continue;
                }
                if (r.canceled) {
                  errors.add(new Error(`watch ${r.watchId} canceled: ${r.cancelReason}`));
                  continue;
                }
                if (r.events.length === 0) continue;
                const at = nowMs();
                for (const ev of r.events) {
                  if (ev.kv.value.length >= 8) this.events.push(msToSeconds(at - ev.kv.value.readDoubleLE(0)));
                  else this.unattributed++;
                }
                this.lastEventAt = at;
                Atomics.add(this.ctl, CTL_EVENTS, r.events.length);
              }
            };
            read().catch((e: unknown) => {
              if (this.closed) return;
              this.watchErrors.add(e);
              reject(e instanceof Error ? e : new Error(String(e)));
            });
            for (const key of spec.keys) {
              sentAt.push(performance.now());
              stream.create({ key: Buffer.from(key), ...(prevKv ? { prevKv: true } : {}) });
            }
          }),
      ),
    );
    this.watchElu0 = performance.eventLoopUtilization();
    this.watchCpu0 = { at: performance.now(), sec: threadCpuSeconds() };
    return { lats: created.take(), errors: errors.take() };
  }

  /** Ends the watch phase: hands over the event latencies and closes the streams. */
  collect(): Omit<CollectReply, 'type' | 'id'> {
    const elu = performance.eventLoopUtilization(this.watchElu0).utilization;
    const threadCpu = (100 * (threadCpuSeconds() - this.watchCpu0.sec)) / ((performance.now() - this.watchCpu0.at) / 1000);
    // A closed stream ends its reader quietly.
    for (const s of this.streams.splice(0)) s.close();
    const out = { lats: this.events.take(), unattributed: this.unattributed, errors: this.watchErrors.take(), lastEventAt: this.lastEventAt, elu, threadCpu };
    this.unattributed = 0;
    this.lastEventAt = NaN;
    return out;
  }

  private async closeClients(): Promise<void> {
    const cs = this.clients;
    this.clients = [];
    await Promise.all(cs.map((c) => c.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    await this.closeClients();
    this.closed = true;
    for (const s of this.streams.splice(0)) s.close();
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}

/** n distinct integers from [0, range), in random order. */
export function pickDistinct(n: number, range: number): number[] {
  if (n > range) throw new Error(`cannot pick ${n} distinct numbers below ${range}`);
  if (n * 2 > range) {
    const all = Array.from({ length: range }, (_, i) => i);
    for (let i = 0; i < n; i++) {
      const j = i + randInt(range - i);
      [all[i], all[j]] = [all[j] as number, all[i] as number];
    }
    return all.slice(0, n);
  }
  const set = new Set<number>();
  // Bounded in expectation: at least half of the range is free on every draw.
  while (set.size < n) set.add(randInt(range));
  return [...set];
}

/** Milliseconds to seconds at nanosecond resolution, as Go's time.Duration.Seconds() would print them. */
const msToSeconds = (ms: number): number => Math.round(ms * 1e6) / 1e9;

function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - nowMs();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
}

function workerMain(): void {
  const port = parentPort;
  if (!port) throw new Error('tsetcd-bench worker started outside a worker thread');
  const state = new WorkerState();
  const reply = (r: Reply, transfer: ArrayBuffer[] = []): void => port.postMessage(r, transfer);
  port.on('message', (o: Order) => {
    const fatal = (e: unknown): void => reply({ type: 'fatal', id: o.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    try {
      switch (o.type) {
        case 'open':
          state.open(o).then(() => reply({ type: 'opened', id: o.id }), fatal);
          break;
        case 'prepare':
          state.prepare(o.job, o.clients).then((errors) => reply({ type: 'prepared', id: o.id, errors }), fatal);
          break;
        case 'run':
          state.run(o).then((r) => reply({ type: 'ran', id: o.id, ...r }, [r.lats.buffer]), fatal);
          break;
        case 'watch':
          state.watch(o.streams, o.prevKv).then((r) => reply({ type: 'watching', id: o.id, ...r }, [r.lats.buffer]), fatal);
          break;
        case 'collect': {
          const r = state.collect();
          reply({ type: 'collected', id: o.id, ...r }, [r.lats.buffer]);
          break;
        }
        case 'close':
          state.close().then(
            () => {
              reply({ type: 'closed', id: o.id });
              port.close();
            },
            fatal,
          );
          break;
      }
    } catch (e) {
      fatal(e);
    }
  });
  reply({ type: 'ready' });
}

// Only as a tsetcd-bench worker: a test importing this module (even from a thread) runs nothing.
if (parentPort && (workerData as { tsetcdBenchWorker?: unknown } | null)?.tsetcdBenchWorker === true) workerMain();
