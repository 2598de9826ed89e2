/**
 * A small in-test RunContext for the workloads: a Db over a LocalCluster (members always up),
 * a Recorder keeping events in memory, and checks that a recorded history is well formed.
 */
import { EtcdClient } from '../../../src/client/index.js';
import { Prng } from '../../../src/util/prng.js';
import type { LocalCluster } from '../../../cluster/local-cluster.js';
import type { ClientEvent, HistoryEvent, NemesisEvent, WatchRecord } from '../../../jepsen-lite/history.js';
import type { Db, NodeInfo, Recorder, RunConfig, RunContext, Workload, WorkloadName } from '../../../jepsen-lite/types.js';

export class MemoryRecorder implements Recorder {
  readonly events: HistoryEvent[] = [];
  readonly watches: WatchRecord[] = [];
  private readonly start = process.hrtime.bigint();
  private nextProcess = 0;

  now(): number {
    return Number(process.hrtime.bigint() - this.start);
  }

  client(e: Omit<ClientEvent, 'index' | 'time_ns'> & { time_ns?: number }): ClientEvent {
    const ev: ClientEvent = { ...e, index: this.events.length, time_ns: e.time_ns ?? this.now() };
    this.events.push(ev);
    return ev;
  }

  nemesis(f: string, value?: unknown): NemesisEvent {
    const ev: NemesisEvent = { index: this.events.length, time_ns: this.now(), process: 'nemesis', type: 'info', f, ...(value === undefined ? {} : { value }) };
    this.events.push(ev);
    return ev;
  }

  watch(record: WatchRecord): void {
    this.watches.push(record);
  }

  newProcess(): number {
    return this.nextProcess++;
  }

  clientEvents(): ClientEvent[] {
    return this.events.filter((e): e is ClientEvent => e.process !== 'nemesis');
  }
}

export function makeContext(cluster: LocalCluster, workload: WorkloadName, signal: AbortSignal, seed = 1): { ctx: RunContext; recorder: MemoryRecorder; close: () => void } {
  const nodes: NodeInfo[] = cluster.members.map((m) => ({
    name: m.name,
    clientUrl: m.clientUrl,
    advertisedPeerUrl: m.peerUrl,
    peerListenUrl: m.peerUrl,
    sourceAddress: '127.0.0.1',
    dataDir: m.dataDir,
    logFile: m.logFile,
  }));
  const unsupported = (): never => {
    throw new Error('not in this test');
  };
  const db: Db = {
    nodes,
    state: () => 'up',
    start: unsupported,
    kill: unsupported,
    loseUnsyncedWrites: unsupported,
    restart: unsupported,
    pause: unsupported,
    resume: unsupported,
    leader: () => Promise.resolve(undefined),
    cut: unsupported,
    delay: unsupported,
    drop: unsupported,
    healLinks: unsupported,
    testHook: unsupported,
    stop: () => Promise.resolve(),
  };
  const config: RunConfig = {
    workload,
    nemeses: ['none'],
    schedule: 'single',
    nodes: nodes.length,
    timeLimitS: 3,
    rate: 200,
    concurrency: 6,
    seed,
    outDir: '/nonexistent',
    bugs: [],
    failpoints: [],
    memberFlags: [],
    electionMs: 1000,
  };
  const recorder = new MemoryRecorder();
  const clients: EtcdClient[] = [];
  const ctx: RunContext = {
    config,
    db,
    recorder,
    prng: new Prng(seed),
    signal,
    client(node?: string): EtcdClient {
      const urls = node === undefined ? nodes.map((n) => n.clientUrl) : nodes.filter((n) => n.name === node).map((n) => n.clientUrl);
      const c = new EtcdClient({ endpoints: urls, timeoutMs: 3000 });
      clients.push(c);
      return c;
    },
  };
  return { ctx, recorder, close: () => clients.forEach((c) => c.close()) };
}

/**
 * The history rules of history.ts: each invoke is followed in its process by exactly one
 * completion of the same f; no process invokes after an info; event indexes and times increase.
 * Returns the completions by type.
 */
export function checkWellFormed(events: readonly HistoryEvent[]): { ok: number; fail: number; info: number; open: number } {
  const open = new Map<number, ClientEvent>();
  const retired = new Set<number>();
  const counts = { ok: 0, fail: 0, info: 0, open: 0 };
  let lastTime = -1;
  events.forEach((e, i) => {
    if (e.index !== i) throw new Error(`event ${i} has index ${e.index}`);
    if (e.time_ns < lastTime) throw new Error(`event ${i} goes back in time`);
    lastTime = e.time_ns;
    if (e.process === 'nemesis') return;
    if (retired.has(e.process)) throw new Error(`process ${e.process} used after an info (event ${i})`);
    if (e.type === 'invoke') {
      if (open.has(e.process)) throw new Error(`process ${e.process} invoked twice (event ${i})`);
      if (e.node === undefined) throw new Error(`invoke ${i} names no node`);
      open.set(e.process, e);
      return;
    }
    const inv = open.get(e.process);
    if (inv === undefined) throw new Error(`completion ${i} with no invoke`);
    if (inv.f !== e.f) throw new Error(`completion ${i} is ${e.f}, invoke was ${inv.f}`);
    if (e.key !== inv.key) throw new Error(`completion ${i} has key ${e.key}, invoke had ${inv.key}`);
    open.delete(e.process);
    counts[e.type]++;
    if (e.type === 'info') retired.add(e.process);
    // An unfenced lock-write (no token on its invoke) only writes harness memory: no server, no revision.
    const serverless = e.f === 'lease-keepalive' || e.f === 'lease-ttl' || (e.f === 'lock-write' && inv.mod_revision === undefined);
    if (e.type === 'ok' && !serverless && e.revision === undefined) throw new Error(`ok ${i} (${e.f}) has no revision`);
  });
  counts.open = open.size;
  return counts;
}

/** Values written by write/cas/lease-put/add invokes, to check they are unique. */
export function writtenValues(events: readonly HistoryEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    if (e.process === 'nemesis' || e.type !== 'invoke') continue;
    if (e.f === 'write' || e.f === 'cas' || e.f === 'lease-put') out.push(e.value);
    for (const m of e.txn ?? []) if (m[0] === 'append') out.push(`${m[1]}:${m[2]}`);
  }
  return out;
}

/** Runs a workload's run() for `ms`, then its final(). */
export async function runFor(cluster: LocalCluster, name: WorkloadName, make: () => Workload, ms: number): Promise<MemoryRecorder> {
  const ac = new AbortController();
  const { ctx, recorder, close } = makeContext(cluster, name, ac.signal);
  const w = make();
  try {
    const timer = setTimeout(() => ac.abort(), ms);
    await w.run(ctx);
    clearTimeout(timer);
    await w.final(ctx);
  } finally {
    close();
  }
  return recorder;
}
