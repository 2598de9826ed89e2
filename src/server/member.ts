/**
 * One member, assembled from its parts over an injected environment (env.ts), and its lifecycle.
 * The parts, each with one job:
 *   bootstrap.ts     who this member is (new cluster, joining, restart)
 *   raft-storage.ts  raft's durable log (WAL and snapshot files)
 *   backend.ts       the database: MVCC store, leases, members
 *   ready-loop.ts    raft driven by ticks and messages; each Ready persisted, sent and applied
 *   applier.ts       committed entries into the store, lessor and member list
 *   proposer.ts      proposals and the waits for their results
 *   read-index.ts    linearizable reads (ReadIndex rounds)
 *   db-snapshots.ts  raft snapshots; database snapshots sent, staged and installed
 *   lease-leader.ts  lease renewal, expiry and forwarding, on the leader
 *   watch-server.ts  the watch hub and streams
 *   peer-routes.ts   requests between members, both ways
 * The v3 API facade over them is v3-server.ts.
 */
import path from 'node:path';
import { EtcdError } from '../errors.js';
import { NONE, RawNode, type NodeId } from '../raft/index.js';
import { Prng } from '../util/prng.js';
import { AppliedIndex } from './applied.js';
import { Applier } from './applier.js';
import { Backend } from './backend.js';
import { findStart, initialMembers, logStart, type Identity } from './bootstrap.js';
import type { ServerConfig } from './config.js';
import { DbSnapshots } from './db-snapshots.js';
import type { MemberEnv, MemberStrategies, PeerEndpoint, TimerHandle } from './env.js';
import { idToHex } from './ids.js';
import { LeaseLeader } from './lease-leader.js';
import { Membership } from './membership.js';
import { PeerRoutes } from './peer-routes.js';
import { Proposer } from './proposer.js';
import { DiskRaftStorage } from './raft-storage.js';
import { ReadIndex } from './read-index.js';
import { ReadyLoop } from './ready-loop.js';
import { decodeValue, encodeValue } from './requests.js';
import type { ResponseHeader } from './service.js';
import { WatchServer } from './watch-server.js';

/** Raft ticks per heartbeat interval (see tickMs). */
const TICKS_PER_HEARTBEAT = 10;
/** etcd refuses new proposals when apply lags commit by more than this many entries. */
const MAX_GAP_BETWEEN_APPLY_AND_COMMIT = 5000;
/** How often the leader looks for expired leases (etcd: 500 ms). */
export const LEASE_TICK_MS = 500;

/** The parts of a started member (see the file comment). */
export interface MemberParts {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly memberDir: string;
  readonly node: RawNode;
  readonly storage: DiskRaftStorage;
  readonly backend: Backend;
  readonly applied: AppliedIndex;
  readonly proposer: Proposer;
  readonly reads: ReadIndex;
  readonly applier: Applier;
  readonly snapshots: DbSnapshots;
  readonly watches: WatchServer;
  readonly leases: LeaseLeader;
  readonly loop: ReadyLoop;
}

export class Member {
  readonly membership = new Membership();
  readonly peerRoutes: PeerRoutes;
  private p: MemberParts | undefined;
  private endpoint: PeerEndpoint | undefined;
  private leaseTicker: TimerHandle | undefined;
  private running = false;
  private stopping: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  /** Why this member stopped by itself (e.g. it was removed), for the process to report. */
  stopReason: string | undefined;

  constructor(
    readonly cfg: ServerConfig,
    readonly env: MemberEnv,
    private readonly strategies: MemberStrategies = {},
  ) {
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    this.peerRoutes = new PeerRoutes({ network: env.network, membership: this.membership, lead: () => this.lead, timeoutMs: this.requestTimeoutMs, logger: cfg.logger });
  }

  /** The parts; only once started. */
  get parts(): MemberParts {
    if (this.p === undefined) throw new EtcdError('Stopped');
    return this.p;
  }

  get isRunning(): boolean {
    return this.running;
  }

  get lead(): NodeId {
    return this.p?.loop.leader ?? NONE;
  }

  /** etcd's request timeout: 5 s plus two election timeouts. */
  get requestTimeoutMs(): number {
    return 5000 + 2 * this.cfg.electionMs;
  }

  async start(): Promise<void> {
    const { cfg, env } = this;
    const log = cfg.logger;
    const memberDir = path.join(cfg.dataDir, 'member');
    await env.fs.mkdir(memberDir);
    const start = await findStart(cfg, memberDir, env.fs, env.databases, this.peerRoutes);
    const opened = await DiskRaftStorage.open(memberDir, encodeValue(start.kind === 'restart' ? { memberId: 0n, clusterId: 0n } : start.identity), {
      logger: log,
      fs: env.fs,
      ...(this.strategies.commitOnly ? { commitOnly: this.strategies.commitOnly } : {}),
    });
    const storage = opened.storage;
    const ids = decodeValue<Identity>(opened.metadata);
    await DbSnapshots.removeStale(env.databases, memberDir);
    const backend = new Backend({ databases: env.databases, path: DbSnapshots.livePath(memberDir), logger: log, clock: env.clock, timers: env.timers, electionMs: cfg.electionMs, membership: this.membership });
    await backend.open();
    if (storage.lastIndex() === 0) {
      // Fresh (or a crash before the first snapshot was written): start the same way again.
      if (start.kind === 'join') await backend.persistMembers(start.members);
      else if (cfg.initialClusterState === 'new') await this.bootstrapNew(storage, backend);
    }
    logStart(log, start, ids);
    storage.raiseCommit(backend.store.consistentIndex());
    this.p = this.assemble(ids, memberDir, storage, backend);
    const p = this.p;
    this.endpoint = await env.network.listen(
      { id: ids.memberId, clusterId: ids.clusterId, listenPeerUrls: cfg.listenPeerUrls },
      {
        onMessages: (msgs) => p.loop.onPeerMessages(msgs),
        onSnapshot: (header, body) => p.snapshots.receive(header, body),
        onUnreachable: (id) => {
          p.node.reportUnreachable(id);
          p.loop.kick();
        },
        serve: (req) => this.peerRoutes.serve(req),
      },
    );
    // Peers first: the listener refuses handshakes from members it does not know.
    for (const m of this.membership.list()) if (m.id !== ids.memberId) this.endpoint.addPeer(m.id, [...m.peerURLs]);
    if (this.stopping !== undefined) {
      // Stopped while starting: nothing ran yet, so only what start() opened is closed.
      await this.endpoint.close();
      env.network.close();
      await backend.close();
      await storage.close();
      throw new EtcdError('Stopped');
    }
    this.running = true;
    p.watches.start();
    this.leaseTicker = env.timers.every(LEASE_TICK_MS, () => p.leases.tick());
    p.loop.start().catch((e: unknown) => this.fatal('ready loop failed', e));
  }

  /** Resolves when the member has stopped (by stop(), or by itself). */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  /** A response header at `revision` (default: the store's current one). */
  header(revision?: number): ResponseHeader {
    const p = this.parts;
    return { clusterId: p.clusterId, memberId: p.memberId, revision: revision ?? p.backend.store.currentRev, raftTerm: p.node.term() };
  }

  /** Throws when this member may not propose now. */
  checkCanPropose(): void {
    if (!this.running) throw new EtcdError('Stopped');
    if (this.lead === NONE) throw new EtcdError('NoLeader');
    const p = this.parts;
    if (p.node.committed() - p.applied.index > MAX_GAP_BETWEEN_APPLY_AND_COMMIT) throw new EtcdError('TooManyRequests');
  }

  /** Like etcd, a learner serves only serializable reads (and member and status calls). */
  refuseOnLearner(): void {
    if (this.membership.get(this.parts.memberId)?.isLearner === true) throw new EtcdError('NotSupportedForLearner');
  }

  private assemble(ids: Identity, memberDir: string, storage: DiskRaftStorage, backend: Backend): MemberParts {
    const { cfg, env } = this;
    const log = cfg.logger;
    const kick = (): void => loop.kick();
    const isRunning = (): boolean => this.running;
    const peers = (): PeerEndpoint => {
      if (this.endpoint === undefined) throw new EtcdError('Stopped');
      return this.endpoint;
    };
    const timeoutMs = this.requestTimeoutMs;
    // Raft's clock ticks TICKS_PER_HEARTBEAT times per heartbeat interval. Heartbeats still go
    // every --heartbeat-interval and elections time out in [--election-timeout, 2x), but the
    // random draw has 100 values instead of 10: with one tick per heartbeat, two followers of a
    // dead leader drew the same timeout one time in ten, split the vote, and failover took a
    // second election timeout more.
    const tickMs = Math.max(1, cfg.heartbeatMs / TICKS_PER_HEARTBEAT);
    // Entries after the raft snapshot are handed out again: their MVCC effects are skipped by
    // the consistent index, but configuration changes must reach raft again.
    const applied = new AppliedIndex(storage.firstIndex() - 1);
    const node = new RawNode({
      id: ids.memberId,
      electionTick: Math.max(2 * TICKS_PER_HEARTBEAT, Math.round(cfg.electionMs / tickMs)),
      heartbeatTick: TICKS_PER_HEARTBEAT,
      storage,
      prng: new Prng(env.random.int(2 ** 31)),
      applied: applied.index,
      checkQuorum: true,
      preVote: true,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 512,
      logger: log,
    });
    const proposer = new Proposer({ node, memberId: ids.memberId, timers: env.timers, nowMs: () => env.clock.nowMs(), timeoutMs, checkCanPropose: () => this.checkCanPropose(), kick });
    const reads = new ReadIndex({ node, applied, timers: env.timers, timeoutMs, isRunning, lead: () => this.lead, kick, ...(this.strategies.readPolicy ? { policy: this.strategies.readPolicy } : {}) });
    const watches = new WatchServer({
      store: () => backend.store,
      header: (rev) => this.header(rev),
      timers: env.timers,
      failpoints: env.failpoints,
      logger: log,
      maxResponseBytes: cfg.maxRequestBytes,
      progressNotifyMs: cfg.watchProgressNotifyMs,
      isRunning,
      ...(this.strategies.watchOutgoing ? { outgoing: this.strategies.watchOutgoing } : {}),
    });
    const leases: LeaseLeader = new LeaseLeader({ memberId: ids.memberId, node, backend, applied, reads, proposer, peers: this.peerRoutes, timers: env.timers, lead: () => this.lead, electionMs: cfg.electionMs, timeoutMs, logger: log });
    const applier = new Applier(
      {
        memberId: ids.memberId,
        node,
        backend,
        hub: watches.hub,
        membership: this.membership,
        proposer,
        applied,
        failpoints: env.failpoints,
        logger: log,
        peers,
        isRunning,
        onApplied: (index) => leases.onApplied(index),
        onRemoved: () => {
          this.stopReason = 'the member has been permanently removed from the cluster';
          void env.timers.yield().then(() => this.stop());
        },
        onFatal: (e) => this.fatal('apply failed', e),
      },
      storage.initialState().confState,
    );
    const snapshots = new DbSnapshots({
      memberId: ids.memberId,
      memberDir,
      node,
      storage,
      backend,
      databases: env.databases,
      membership: this.membership,
      applier,
      applied,
      peers,
      failpoints: env.failpoints,
      logger: log,
      snapshotCount: cfg.snapshotCount,
      snapshotCatchUpEntries: cfg.snapshotCatchUpEntries,
      kick,
      onInstalled: (revision) => watches.restored(revision),
    });
    const loop: ReadyLoop = new ReadyLoop({
      memberId: ids.memberId,
      node,
      storage,
      snapshots,
      applier,
      reads,
      membership: this.membership,
      peers,
      timers: env.timers,
      tickMs,
      failpoints: env.failpoints,
      logger: log,
      onLeaderChange: (lead, previous) => {
        // Reads waiting on the old leader's round will never be answered: fail them so they retry.
        if (reads.inFlight && lead !== ids.memberId) reads.failAll(new EtcdError('LeaderChanged'));
        leases.onLeaderChange(lead, previous);
      },
    });
    return { memberId: ids.memberId, clusterId: ids.clusterId, memberDir, node, storage, backend, applied, proposer, reads, applier, snapshots, watches, leases, loop };
  }

  /** The initial members of a new cluster, then raft's bootstrap snapshot. */
  private async bootstrapNew(storage: DiskRaftStorage, backend: Backend): Promise<void> {
    const members = initialMembers(this.cfg);
    await backend.persistMembers(members);
    await storage.bootstrap({ voters: members.map((m) => m.id), learners: [] });
    this.cfg.logger.info('bootstrapped a new cluster', { members: members.map((m) => idToHex(m.id)) });
  }

  private fatal(what: string, e: unknown): void {
    this.cfg.logger.error(`${what}; stopping the member`, { error: String(e instanceof Error ? (e.stack ?? e.message) : e) });
    this.stopReason = `fatal: ${String(e)}`;
    void this.stop();
  }

  private async stopNow(): Promise<void> {
    const p = this.p;
    if (!this.running || p === undefined) {
      // Not started (or still starting: start() sees `stopping` and gives up).
      this.resolveStopped();
      return this.stopped;
    }
    this.running = false;
    this.leaseTicker?.cancel();
    await p.loop.stop();
    await p.applier.idle().catch(() => {});
    p.watches.stop();
    // A proposal in flight may still commit (on the other members): its outcome is unknown, so
    // it fails with Timeout, never with Stopped, which means "not proposed" (checkCanPropose).
    p.proposer.failAll(new EtcdError('Timeout'));
    p.reads.failAll(new EtcdError('Stopped'));
    await this.endpoint?.close();
    this.env.network.close();
    await p.backend.close();
    await p.storage.close();
    this.resolveStopped();
    return this.stopped;
  }
}
