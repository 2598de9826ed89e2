/**
 * One seeded run of the cluster simulation: parameters drawn from the seed, a cluster
 * bootstrapped, clients and a nemesis for `durationMs` of virtual time, then healing, final
 * reads, collectors and state hashes, and jepsen-lite's checkers over the history. A run is a
 * function of its seed (and bug switches): the same seed gives the same history hash.
 */
import { checkRun, type RunResults } from '../../jepsen-lite/checkers/index.js';
import type { StateHash } from '../../jepsen-lite/checkers/revision.js';
import type { MicroOp } from '../../jepsen-lite/history.js';
import { Prng } from '../../src/util/prng.js';
import type { BugName } from '../../src/util/test-hook-names.js';
import { Cluster, Violation, type ClusterParams } from './cluster.js';
import { perform, Process, type History } from './history.js';
import { Nemesis } from './nemesis.js';
import type { Owner } from './scheduler.js';
import type { SimNode } from './sim-node.js';
import { appendTxn, Clients, collect, readKey, type ClientWorld } from './workloads.js';

export interface RunOptions {
  readonly seed: number;
  readonly bugs?: readonly BugName[];
  /** Virtual milliseconds of load and faults (default: drawn from the seed, 15–25 s). */
  readonly durationMs?: number;
  /** Keep the history in the report (for --out). */
  readonly keepHistory?: boolean;
}

export interface RunReport {
  readonly seed: number;
  readonly bugs: readonly BugName[];
  readonly params: string;
  readonly ok: boolean;
  readonly failures: readonly string[];
  readonly hash: string;
  readonly ops: number;
  readonly steps: number;
  readonly virtualMs: number;
  readonly checkers: Readonly<Record<string, string>>;
  /** The last log lines of every node, for a failure. */
  readonly logs: Readonly<Record<string, readonly string[]>>;
  readonly history?: History;
  /** Every log line kept, with keepHistory. */
  readonly fullLogs?: Readonly<Record<string, readonly string[]>>;
}

const WEIGHTS = { partition: 3, kill: 2, power: 2, 'power-all': 1, restart: 1, 'restart-all': 1, clock: 1, add: 1, remove: 1, 'reconfigure-restart': 1 } as const;

export function paramsFor(seed: number, bugs: readonly BugName[]): ClusterParams & { durationMs: number } {
  const prng = new Prng(seed ^ 0x5eed);
  const snapshotCount = prng.pick([25, 200, 5000]);
  return {
    seed,
    initial: prng.chance(0.7) ? 3 : 5,
    spare: 2,
    net: { delayMs: 0.5 + prng.int(3), jitterMs: prng.pick([0, 2, 10]), lossRate: prng.pick([0, 0.01, 0.05]) },
    node: { heartbeatMs: 100, electionMs: 1000, snapshotCount, snapshotCatchUpEntries: Math.min(snapshotCount, prng.pick([5, 50])) },
    bugs,
    durationMs: 15_000 + prng.int(10_000),
  };
}

export async function runSeed(opts: RunOptions): Promise<RunReport> {
  const bugs = opts.bugs ?? [];
  const params = paramsFor(opts.seed, bugs);
  const durationMs = opts.durationMs ?? params.durationMs;
  const c = new Cluster(params);
  const failures: string[] = [];
  let results: RunResults | undefined;
  try {
    results = await simulate(c, durationMs);
    if (results.valid === false) {
      for (const [name, r] of Object.entries(results.checkers)) {
        if (r.valid === false) failures.push(`${name}: ${r.anomalies.slice(0, 3).map((a) => `${a.type}: ${a.message}`).join('; ')}`);
      }
    }
  } catch (e) {
    failures.push(e instanceof Violation ? `invariant: ${e.message}` : `run failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  for (const n of c.nodes) for (const err of n.errors) failures.push(`${n.name} logged an error: ${err}`);
  const p = params;
  return {
    seed: opts.seed,
    bugs,
    params: `${p.initial} members, snapshot-count ${p.node.snapshotCount}, delay ${p.net.delayMs}+${p.net.jitterMs} ms, loss ${p.net.lossRate}, ${durationMs} ms`,
    ok: failures.length === 0,
    failures,
    hash: c.history.hash(),
    ops: c.history.events.filter((e) => e.process !== 'nemesis' && e.type === 'invoke').length,
    steps: c.sched.steps,
    virtualMs: Math.round(c.sched.now),
    checkers: Object.fromEntries(Object.entries(results?.checkers ?? {}).map(([k, r]) => [k, String(r.valid)])),
    logs: Object.fromEntries(c.nodes.filter((n) => n.log.length > 0).map((n) => [n.name, n.log.slice(-60)])),
    ...(opts.keepHistory === true ? { history: c.history, fullLogs: Object.fromEntries(c.nodes.map((n) => [n.name, n.log])) } : {}),
  };
}

async function simulate(c: Cluster, durationMs: number): Promise<RunResults> {
  await c.drive(c.bootstrap(), 10_000);
  let stopping = false;
  const world: ClientWorld = {
    sched: c.sched,
    history: c.history,
    prng: c.prng.fork(),
    pickUp: () => {
      const up = c.up;
      return up.length > 0 ? world.prng.pick(up) : undefined;
    },
    stopping: () => stopping,
  };
  const clients = new Clients(world);
  const nemesis = new Nemesis(c, WEIGHTS);
  const pause = (): Promise<void> => c.sched.sleep(5 + world.prng.int(40), clients.owner);
  const loop = async (step: () => Promise<void>): Promise<void> => {
    for (let i = 0; i < 100_000 && !stopping; i++) {
      await step();
      await pause();
    }
  };
  const lockPolicy = c.nodes[0]?.lockPolicy;
  const threads: Promise<void>[] = [];
  for (let t = 0; t < 4; t++) {
    const proc = new Process(c.history);
    const last = new Map<string, number | null>();
    threads.push(loop(() => clients.register(proc, last)));
  }
  const appender = new Process(c.history);
  threads.push(loop(() => clients.append(appender)));
  const leaser = new Process(c.history);
  threads.push(loop(() => clients.lease(leaser)));
  for (let t = 0; t < 2; t++) {
    const proc = new Process(c.history);
    threads.push(loop(() => clients.lockCycle(proc, lockPolicy)));
  }
  for (let t = 0; t < 2; t++) threads.push(loop(() => clients.watch(`w${t}`)));
  let phase = 'load';
  const load = (async () => {
    const faults = nemesis.run(() => stopping);
    await c.sched.sleep(durationMs, c.owner);
    stopping = true;
    phase = 'waiting for the nemesis';
    await faults;
    phase = 'waiting for pending faults to end';
    await nemesis.settled();
    phase = 'waiting for the clients';
    await Promise.all(threads);
  })();
  try {
    await c.drive(load, durationMs + 60_000);
  } catch (e) {
    if (e instanceof Violation) throw e;
    throw new Error(`${phase}${nemesis.current ? ` (${nemesis.current})` : ''}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }

  // Heal: no faults, every member up, and time to catch up.
  c.net.heal();
  c.net.calm = true;
  c.history.nemesis('heal');
  await c.drive(Promise.all(c.nodes.map((n) => c.restart(n))), 20_000);
  await c.drive(converge(c), 30_000);
  // Long enough for every lease nobody renews to run out (the lease checker's L4 bound).
  await c.drive(c.sched.sleep(8_000, c.owner), 10_000);
  const finalOwner = clients.owner;
  await c.drive(finalReads(c, finalOwner), 60_000);
  const revision = await c.drive(finalRevision(c), 10_000);
  for (const n of c.up) {
    const r = await c.drive(collect(world, n, revision, finalOwner), 30_000);
    if (r !== undefined) c.history.watches.push(r);
  }
  const hashes: Record<string, StateHash> = {};
  for (const n of c.up) {
    const h = await c.drive(n.server!.hashKV(revision), 10_000);
    hashes[n.name] = { revision, hash: h.hash };
  }
  return checkRun({
    events: c.history.events,
    watches: c.history.watches,
    facts: { hashes, electionTimeoutMs: c.params.node.electionMs, clockOffsetBoundMs: nemesis.maxClockOffsetMs, faultIntervals: nemesis.faultIntervals },
    options: { registerTimeoutMsPerKey: 10_000 },
  });
}

/** Waits until one leader exists and every member up has applied what it committed. */
async function converge(c: Cluster): Promise<void> {
  for (let i = 0; i < 300; i++) {
    await c.sched.sleep(100, c.owner);
    const up = c.up.filter((n) => n.server?.member.isRunning === true);
    const leaders = up.filter((n) => n.server!.member.parts.node.isLeader());
    const leader = leaders[0];
    if (leaders.length !== 1 || leader === undefined) continue;
    // A removal whose answer was lost may still have happened: the leader's list decides.
    const urls = new Set(leader.server!.member.membership.list().flatMap((m) => [...m.peerURLs]));
    const members = up.filter((n) => urls.has(n.peerUrl));
    const committed = leader.server!.member.parts.node.committed();
    if (members.every((n) => n.server!.member.parts.applied.index >= committed)) {
      for (const n of up) if (!urls.has(n.peerUrl)) await n.stop();
      return;
    }
  }
  throw new Error(`no stable leader with every member caught up after healing (up: ${c.up.map((n) => n.name).join(', ')})`);
}

/** Every key the workloads touched, read linearizably on every member. */
async function finalReads(c: Cluster, owner: Owner): Promise<void> {
  const keys = new Set<string>();
  const appendKeys = new Set<string>();
  for (const e of c.history.events) {
    if (e.process === 'nemesis' || e.type !== 'invoke') continue;
    if ((e.f === 'write' || e.f === 'cas' || e.f === 'read' || e.f === 'lease-put') && e.key !== undefined) keys.add(e.key);
    if (e.f === 'txn') for (const m of e.txn ?? []) appendKeys.add(m[1]);
  }
  for (const n of c.up) {
    const proc = new Process(c.history);
    const s = n.server!;
    const opts = { timeoutMs: 8000, readOnly: true };
    for (const key of [...keys].sort()) await perform(c.history, c.sched, owner, proc, n.name, { f: 'read', key }, () => readKey(s, key), opts);
    const sorted = [...appendKeys].sort();
    for (let i = 0; i < sorted.length; i += 4) {
      const txn: MicroOp[] = sorted.slice(i, i + 4).map((k): MicroOp => ['r', k, null]);
      await perform(c.history, c.sched, owner, proc, n.name, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, () => appendTxn(s, txn), opts);
    }
  }
}

async function finalRevision(c: Cluster): Promise<number> {
  let rev = 0;
  for (const n of c.up as SimNode[]) rev = Math.max(rev, (await n.server!.status()).header.revision);
  return rev;
}
