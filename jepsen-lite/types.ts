/**
 * The seams of jepsen-lite's harness, so its parts can be written apart:
 *
 *   cli.ts ── run(config) ──▶ Db (member processes, per-link proxies)      db.ts, proxy.ts
 *                        ├──▶ Nemesis (faults on a schedule)                nemesis/*.ts
 *                        ├──▶ Workload (client processes recording ops)     workloads/*.ts
 *                        └──▶ final phase, checkers, report                 final.ts, checkers/, report/
 *
 * Every random choice comes from a seeded Prng (src/util/prng.ts) forked per part, so a seed
 * repeats a run's choices (timings still vary with the machine).
 */
import type { EtcdClient } from '../src/client/index.js';
import type { Prng } from '../src/util/prng.js';
import type { ClientEvent, NemesisEvent, WatchRecord } from './history.js';

export type WorkloadName = 'register' | 'append' | 'watch' | 'lease' | 'wr' | 'set' | 'lock';
export type NemesisName = 'none' | 'kill' | 'kill-lossy' | 'pause' | 'partition' | 'admin' | 'member' | 'disk' | 'clock' | 'failpoint';

/** What `jepsen-lite run` was asked (saved as config.json with the seed and git sha). */
export interface RunConfig {
  readonly workload: WorkloadName;
  readonly nemeses: readonly NemesisName[];
  readonly schedule: 'single' | 'mixed';
  readonly nodes: number;
  readonly timeLimitS: number;
  /** Target client operations per second, over all processes. */
  readonly rate: number;
  /** Client threads (each a sequence of logical processes). */
  readonly concurrency: number;
  readonly seed: number;
  readonly outDir: string;
  /** Bug switches for the members (TSETCD_BUGS), for positive controls. */
  readonly bugs: readonly string[];
  /** Failpoints armed at start (TSETCD_FAILPOINTS), e.g. 'beforeApply=sleep(50)'. */
  readonly failpoints: readonly string[];
  /** Member flags (heartbeat, election timeout, snapshot count, ...). */
  readonly memberFlags: readonly string[];
  readonly electionMs: number;
  /**
   * Restricts a nemesis to some of its modes (CLI: `--nemesis kill-lossy:all,partition:isolate-leader`),
   * e.g. so a positive control gets the fault that exposes its bug every time.
   */
  readonly nemesisModes?: Readonly<Partial<Record<NemesisName, readonly string[]>>>;
}

export interface NodeInfo {
  /** 'n1', 'n2', ... */
  readonly name: string;
  readonly clientUrl: string;
  /** The address other members dial (a proxy in front of the member's peer listener). */
  readonly advertisedPeerUrl: string;
  /** The member's own peer listener (the harness's test-hook requests go here, not proxied). */
  readonly peerListenUrl: string;
  /** The loopback address this member's peer connections leave from (TSETCD_PEER_SOURCE_ADDRESS). */
  readonly sourceAddress: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export type NodeState = 'up' | 'killed' | 'paused' | 'removed';

/** What loseUnsyncedWrites did (recorded in the nemesis event). */
export interface LossReport {
  /** Files cut back: path (relative to the member dir) → [size before, size after]. */
  readonly truncated: Readonly<Record<string, readonly [number, number]>>;
  /** Files never fsynced, removed. */
  readonly removed: readonly string[];
}

/** The cluster under test: real member processes on loopback, peer links through proxies. */
export interface Db {
  readonly nodes: readonly NodeInfo[];
  state(name: string): NodeState;
  /** Starts every member and waits until a leader serves a linearizable read. */
  start(): Promise<void>;
  /**
   * Waits (at most timeoutMs) until some member serves a linearizable read; false if none did.
   * This and the other optional members are implemented by the process Db (db.ts); test doubles
   * may leave them out.
   */
  waitHealthy?(timeoutMs: number): Promise<boolean>;
  kill(name: string): Promise<void>;
  /** After a kill: cut the WAL and snapshot files back to their last fsync (test-fsync.log). */
  loseUnsyncedWrites(name: string): Promise<LossReport>;
  restart(name: string): Promise<void>;
  /** Deletes a stopped member's data dir. */
  wipe?(name: string): Promise<void>;
  /** While set, an exit of the member on its own is expected (armed panic, corrupted disk). */
  expectCrash?(name: string, expected: boolean): void;
  pause(name: string): void;
  resume(name: string): void;
  /** The member's current view of the leader's name, or undefined. */
  leader(): Promise<string | undefined>;
  /** Peer-link faults through the proxies; `from`→`to` is one direction. */
  cut(from: string, to: string): void;
  delay(from: string, to: string, baseMs: number, jitterMs: number): void;
  drop(from: string, to: string, fraction: number): void;
  healLinks(): void;
  /** PUT /test/... on the member's own peer listener (failpoints, clock). */
  testHook(name: string, path: string, body: string): Promise<void>;
  /** Stops every process it started, by PID, and every proxy. */
  stop(): Promise<void>;
}

/** Appends events to history.jsonl (index and time_ns are filled in here). */
export interface Recorder {
  /** Nanoseconds since the run started. */
  now(): number;
  /** Records an invoke or completion; returns the event as written. */
  client(e: Omit<ClientEvent, 'index' | 'time_ns'> & { time_ns?: number }): ClientEvent;
  nemesis(f: string, value?: unknown): NemesisEvent;
  /** A finished watch request, for watch/<watcher>.jsonl. */
  watch(record: WatchRecord): void;
  /** A new logical process id (after an `info`, the thread continues under a new one). */
  newProcess(): number;
}

export interface RunContext {
  readonly config: RunConfig;
  readonly db: Db;
  readonly recorder: Recorder;
  readonly prng: Prng;
  /** A client for one node, with no retries (src/client); `pinned` picks the node, else rotates. */
  client(node?: string): EtcdClient;
  /** Aborted when the workload phase ends (time limit, or the run is stopped). */
  readonly signal: AbortSignal;
}

export interface Workload {
  readonly name: WorkloadName;
  /** Runs the client processes until ctx.signal aborts; records every op. */
  run(ctx: RunContext): Promise<void>;
  /**
   * After heal (final phase): final reads of every key from every member, and for watch-based
   * checks the collectors (one per member, from revision 1 to the final revision).
   */
  final(ctx: RunContext): Promise<void>;
}

export interface Nemesis {
  readonly name: NemesisName;
  /** Starts one fault (recorded with recorder.nemesis) and resolves once it is in place. */
  start(ctx: RunContext): Promise<void>;
  /** Ends the fault it started (restart, resume, heal); idempotent. */
  stop(ctx: RunContext): Promise<void>;
}
