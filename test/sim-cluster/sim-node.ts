/**
 * One member's place in the simulation: its disk and databases, which outlive crashes, and its
 * current incarnation (a V3Server over a simulated MemberEnv). start() builds an incarnation,
 * crash() drops it on the floor (kill -9, or a power loss that also loses unsynced file data),
 * stop() stops it as SIGTERM does.
 */
import { bugStrategies } from '../../src/cli/test-hooks.js';
import type { ServerConfig } from '../../src/server/config.js';
import { NO_FAILPOINTS, type MemberEnv, type MemberStrategies } from '../../src/server/env.js';
import type { LockPolicy } from '../../src/server/lock.js';
import { createMember, type V3Server } from '../../src/server/v3-server.js';
import type { LogFields, Logger } from '../../src/util/logger.js';
import type { Prng } from '../../src/util/prng.js';
import type { BugName } from '../../src/util/test-hook-names.js';
import { Owner, type Scheduler } from './scheduler.js';
import { SimDatabases } from './sim-databases.js';
import { SimDisk } from './sim-disk.js';
import type { SimNetwork } from './sim-network.js';

export interface NodeParams {
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly snapshotCount: number;
  readonly snapshotCatchUpEntries: number;
  /** --experimental-watch-progress-notify-interval (default etcd's 10 minutes). */
  readonly watchProgressNotifyMs?: number;
  readonly bugs: ReadonlySet<BugName>;
}

/** Lines of a node's log kept for a failure report. */
const LOG_LINES = 5000;

export type NodeState = 'new' | 'starting' | 'up' | 'down' | 'removed';

export class SimNode {
  readonly disk: SimDisk;
  private readonly dbs = new SimDatabases();
  state: NodeState = 'new';
  server: V3Server | undefined;
  owner: Owner;
  incarnation = 0;
  /** The clock's distance from true time (a clock jump moves it). */
  clockOffsetMs = 0;
  /** Whether an incarnation ever finished starting (joined, or restarted from its data). */
  private everStarted = false;
  readonly log: string[] = [];
  /** Errors the member logged (a fatal one stops it; the run reports them). */
  readonly errors: string[] = [];
  readonly lockPolicy: LockPolicy | undefined;
  private readonly strategies: MemberStrategies;

  constructor(
    readonly name: string,
    private readonly sched: Scheduler,
    private readonly net: SimNetwork,
    private readonly prng: Prng,
    private readonly params: NodeParams,
  ) {
    this.disk = new SimDisk(sched, prng.fork(), { opMs: 0.05, syncMs: 1 }, params.bugs.has('ack-before-fsync'));
    this.owner = new Owner(`${name}#0`);
    this.owner.kill();
    const { strategies, lockPolicy } = bugStrategies((b) => params.bugs.has(b));
    this.strategies = strategies;
    this.lockPolicy = lockPolicy;
  }

  get peerUrl(): string {
    return `http://${this.name}:2380`;
  }

  get up(): boolean {
    return this.state === 'up' && this.server !== undefined && this.owner.alive;
  }

  /** Starts an incarnation; `cluster` is --initial-cluster (name → peer URL). */
  async start(cluster: ReadonlyMap<string, string>, clusterState: 'new' | 'existing'): Promise<void> {
    this.incarnation++;
    const owner = new Owner(`${this.name}#${this.incarnation}`);
    this.owner = owner;
    const logger = this.logger(owner);
    const env: MemberEnv = {
      clock: this.sched.clockFor(() => this.clockOffsetMs),
      timers: this.sched.timersFor(owner),
      random: { int: (max) => this.prng.int(max) },
      fs: this.disk.fsFor(owner),
      databases: this.dbs.databasesFor(owner),
      network: this.net.viewFor(this.name, owner),
      failpoints: NO_FAILPOINTS,
    };
    const p = this.params;
    const cfg: ServerConfig = {
      name: this.name,
      dataDir: `/sim/${this.name}`,
      listenClientUrls: [`http://${this.name}:2379`],
      advertiseClientUrls: [`http://${this.name}:2379`],
      listenPeerUrls: [this.peerUrl],
      initialAdvertisePeerUrls: [this.peerUrl],
      initialCluster: new Map([...cluster].map(([n, u]) => [n, [u]])),
      initialClusterState: clusterState,
      initialClusterToken: 'sim',
      heartbeatMs: p.heartbeatMs,
      electionMs: p.electionMs,
      snapshotCount: p.snapshotCount,
      snapshotCatchUpEntries: p.snapshotCatchUpEntries,
      maxRequestBytes: 1.5 * 1024 * 1024,
      maxTxnOps: 128,
      watchProgressNotifyMs: p.watchProgressNotifyMs ?? 10 * 60 * 1000,
      logger,
    };
    const server = createMember(cfg, env, this.strategies);
    this.state = 'starting';
    this.server = server;
    try {
      await server.start();
      if (owner.alive) this.state = 'up';
    } catch (e) {
      if (!owner.alive) return;
      // A member that never started may fail to join (its peers are down or cut away) and is
      // started again later; one that ran before must always restart from its data.
      this.note(owner, this.everStarted ? 'error' : 'warn', 'start failed', { error: String(e) });
      owner.kill();
      this.server = undefined;
      this.state = 'down';
      return;
    }
    this.everStarted = true;
    void server.whenStopped().then(() => {
      // It stopped by itself: removed from the cluster, or a fatal error.
      if (this.owner !== owner || !owner.alive) return;
      owner.kill();
      this.server = undefined;
      this.state = server.stopReason?.includes('removed') === true ? 'removed' : 'down';
    });
  }

  /** The process is gone at once. A power loss also loses file data that was not fsynced. */
  crash(kind: 'kill' | 'power'): void {
    this.owner.kill();
    this.disk.crash(kind);
    this.server = undefined;
    if (this.state === 'up' || this.state === 'starting') this.state = 'down';
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await server.stop();
    this.owner.kill();
    this.server = undefined;
    if (this.state === 'up' || this.state === 'starting') this.state = 'down';
  }

  private logger(owner: Owner): Logger {
    const line = (level: string) => (msg: string, fields?: LogFields) => this.note(owner, level, msg, fields);
    return { debug: () => undefined, info: line('info'), warn: line('warn'), error: line('error') };
  }

  private note(owner: Owner, level: string, msg: string, fields?: LogFields): void {
    if (!owner.alive && level !== 'error') return;
    const text = `${this.sched.now.toFixed(1)} ${owner.name} ${level} ${msg}${fields ? ' ' + JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)) : ''}`;
    this.log.push(text);
    if (this.log.length > LOG_LINES) this.log.shift();
    if (level === 'error' && owner.alive) this.errors.push(text);
  }
}
