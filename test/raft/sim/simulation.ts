import {
  ConfChangeType,
  MessageType,
  RaftError,
  SnapshotStatus,
  type ConfChange,
  type ConfState,
  type MemoryStorage,
  type Message,
  type NodeId,
} from '../../../src/raft/index.js';
import { Prng } from '../../../src/util/prng.js';
import { encodeProposal, encodeReadCtx, ProposalKind } from './proposal.js';
import { SafetyChecker } from './safety-checker.js';
import { SimFailure, Violation } from './sim-failure.js';
import { SimNetwork } from './sim-network.js';
import { describeConf, describeMessage, SimNode, type Mutation, type NodeHost } from './sim-node.js';
import { describeParams, paramsForSeed, type SimParams, type SimParamsOverrides } from './sim-params.js';
import { Trace } from './trace.js';

export interface SimOptions {
  readonly seed: number;
  /** Faulty steps to run (liveness checks add calm steps on top). Default 2000. */
  readonly steps?: number;
  /** Run the liveness check every this many steps, and always at the end. Default 700. */
  readonly livenessEvery?: number;
  readonly overrides?: SimParamsOverrides;
  /** Print every trace event as it happens. */
  readonly verbose?: (line: string) => void;
  readonly mutation?: Mutation;
  /** Test hook: the network stays cut during liveness checks, which must then fail. */
  readonly sabotageLiveness?: boolean;
  /** Check the protocol rules directly too (default true); see SafetyChecker. */
  readonly checkRules?: boolean;
}

export interface SimStats {
  readonly steps: number;
  readonly calmSteps: number;
  readonly leadersElected: number;
  readonly committed: number;
  readonly crashes: number;
  readonly readsAnswered: number;
  readonly confChangesApplied: number;
  /** MsgSnap delivered (a follower caught up from a snapshot). */
  readonly snapshotsDelivered: number;
  /** MsgTimeoutNow delivered (a leadership transfer got to its last stage). */
  readonly transfers: number;
  readonly members: number;
  readonly messagesSent: number;
  readonly messagesDropped: number;
}

export interface SimResult {
  readonly seed: number;
  readonly params: SimParams;
  /** Hash over every traced event and the final state: equal for two runs of one seed. */
  readonly traceHash: number;
  readonly stats: SimStats;
}

/** Run one seed; throws SimFailure (with SEED=... in its message) when a check fails. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

/** Rejections the simulation expects from RawNode's inputs (the core decides, not the sim). */
function isExpectedRejection(err: unknown): boolean {
  return err instanceof RaftError;
}

/**
 * One run: a cluster of SimNodes on a SimNetwork, driven by one Prng(seed) through `steps`
 * steps of random faults and workload, with a calm liveness check every `livenessEvery` steps
 * and at the end. Each step:
 *   1. restart crashed nodes whose downtime is over;
 *   2. faults: crash a node, partition, cut a link one way, heal;
 *   3. ticks: all nodes at once, or each on its own (so clocks drift);
 *   4. workload: proposals, ReadIndex requests, membership changes, leadership transfers,
 *      forced campaigns;
 *   5. deliver the messages due at this step (or drop them: cut link, node down, removed);
 *   6. every node finishes its due Ready and takes the next one.
 * The safety checks run inside these steps, as each observation is made.
 */
class Simulation implements NodeHost {
  now = 0;
  calm = false;
  readonly params: SimParams;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  readonly prng: Prng;
  readonly mutation: Mutation | undefined;
  readonly verbose: boolean;
  private readonly netPrng: Prng;
  private readonly raftPrng: Prng;
  private readonly network: SimNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly toStop: SimNode[] = [];
  private readonly steps: number;
  private readonly livenessEvery: number;
  private nextNodeId: number;
  private proposalSeq = 0;
  private readSeq = 0;
  private pendingConf: { readonly cc: ConfChange; readonly at: number } | undefined;
  private globalConf: ConfState;
  private globalConfIndex = 1;
  private confChangesApplied = 0;
  private snapshotsDelivered = 0;
  private transfers = 0;
  private calmSteps = 0;

  constructor(private readonly options: SimOptions) {
    const root = new Prng(options.seed);
    this.prng = root.fork();
    this.netPrng = root.fork();
    this.raftPrng = root.fork();
    this.params = paramsForSeed(options.seed, options.overrides);
    this.checker = new SafetyChecker(options.checkRules ?? true);
    this.mutation = options.mutation;
    this.verbose = options.verbose !== undefined;
    this.trace = new Trace(200, options.verbose);
    this.network = new SimNetwork(this.netPrng, this.params.net);
    this.steps = options.steps ?? 2000;
    this.livenessEvery = options.livenessEvery ?? 700;

    const voters: NodeId[] = [];
    const learners: NodeId[] = [];
    for (let i = 1; i <= this.params.voters; i++) voters.push(BigInt(i));
    for (let i = 1; i <= this.params.learners; i++) learners.push(BigInt(this.params.voters + i));
    this.globalConf = { voters, learners };
    this.nextNodeId = this.params.voters + this.params.learners + 1;
    for (const id of [...voters, ...learners]) {
      const node = this.addNode(id);
      node.storage.bootstrap({ voters: [...voters], learners: [...learners] });
    }
  }

  run(): SimResult {
    try {
      for (const node of this.nodes) node.start(this.raftPrng.fork());
      for (let i = 1; i <= this.steps; i++) {
        this.stepOnce();
        if (i % this.livenessEvery === 0 && i < this.steps) this.checkLiveness();
      }
      this.checkLiveness();
      for (const node of this.nodes) for (const n of node.fingerprint()) this.trace.fold(n);
    } catch (err) {
      throw this.failure(err);
    }
    return {
      seed: this.options.seed,
      params: this.params,
      traceHash: this.trace.hash,
      stats: {
        steps: this.now,
        calmSteps: this.calmSteps,
        leadersElected: this.checker.leadersElected,
        committed: this.checker.maxCommitted,
        crashes: this.nodes.reduce((n, node) => n + node.crashes, 0),
        readsAnswered: this.checker.readsAnswered,
        confChangesApplied: this.confChangesApplied,
        snapshotsDelivered: this.snapshotsDelivered,
        transfers: this.transfers,
        members: this.nodes.length,
        messagesSent: this.network.sent,
        messagesDropped: this.network.dropped,
      },
    };
  }

  private failure(err: unknown): SimFailure {
    if (err instanceof SimFailure) return err;
    const reason =
      err instanceof Violation
        ? err.message
        : `unexpected exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    const state = this.nodes.map((n) => n.describe()).join('\n');
    return new SimFailure(
      this.options.seed,
      this.now,
      reason,
      describeParams(this.params),
      `${this.trace.dump()}\n--- nodes ---\n${state}\nconfig@${this.globalConfIndex}: ${describeConf(this.globalConf)}`,
      { cause: err },
    );
  }

  private addNode(id: NodeId): SimNode {
    const node = new SimNode(id, this);
    this.nodes.push(node);
    this.byId.set(id, node);
    return node;
  }

  private liveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.live);
  }

  /** The live node that believes it leads the highest term, if any. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes) {
      if (!n.live || !n.isLeader) continue;
      if (best === undefined || (n.lastStatus?.term ?? 0) > (best.lastStatus?.term ?? 0)) best = n;
    }
    return best;
  }

  // ---- one step ---------------------------------------------------------------------------

  private stepOnce(): void {
    this.now++;
    for (const n of this.nodes) {
      if (!n.live && !n.removed && n.restartAt <= this.now) n.start(this.raftPrng.fork());
    }
    this.faults();
    this.ticks();
    this.workload();
    this.deliver();
    this.endOfStep();
  }

  private faults(): void {
    const f = this.params.faults;
    const p = this.prng;
    if (p.chance(f.crashRate)) {
      const live = this.liveNodes();
      const leader = this.leader();
      const victim = leader !== undefined && p.chance(0.4) ? leader : live.length > 0 ? p.pick(live) : undefined;
      victim?.crash('crash');
    }
    if (p.chance(f.partitionRate)) {
      const members = this.nodes.filter((n) => !n.removed).map((n) => n.id);
      const leader = this.leader();
      if (leader !== undefined && p.chance(0.4)) {
        this.network.partition(
          [leader.id],
          members.filter((id) => id !== leader.id),
        );
        this.trace.add(this.now, 'isolate', Number(leader.id));
      } else if (members.length >= 2) {
        p.shuffle(members);
        const k = p.range(1, members.length - 1);
        const a = members.slice(0, k);
        const b = members.slice(k);
        this.network.partition(a, b);
        this.trace.add(this.now, 'partition', a.length, b.length, 0, 0, () => `{${a.join(',')}} | {${b.join(',')}}`);
      }
    }
    if (p.chance(f.oneWayRate)) {
      const members = this.nodes.filter((n) => !n.removed);
      if (members.length >= 2) {
        const from = p.pick(members).id;
        const to = p.pick(members.filter((n) => n.id !== from)).id;
        this.network.cutOneWay(from, to);
        this.trace.add(this.now, 'cut', Number(from), Number(to));
      }
    }
    if (this.network.cutLinks > 0 && p.chance(f.healRate)) {
      this.network.heal();
      this.trace.add(this.now, 'heal');
    }
  }

  private ticks(): void {
    const w = this.params.work;
    if (this.prng.chance(w.tickAllRate)) {
      for (const n of this.nodes) if (n.live) n.tick();
    } else {
      for (const n of this.nodes) if (n.live && this.prng.chance(w.tickOneRate)) n.tick();
    }
  }

  private workload(): void {
    const w = this.params.work;
    const p = this.prng;
    if (p.chance(w.proposeRate)) {
      const node = this.pickTarget();
      if (node !== undefined) {
        const id = ++this.proposalSeq;
        this.trace.add(this.now, 'propose', Number(node.id), id);
        this.attempt(() => node.propose(encodeProposal(ProposalKind.Write, id, p.int(w.maxPaddingBytes + 1))));
      }
    }
    if (p.chance(w.readRate)) {
      const node = this.pickTarget();
      if (node !== undefined) {
        const id = ++this.readSeq;
        this.checker.onReadRequest(id, node.id, this.now);
        this.trace.add(this.now, 'read', Number(node.id), id, this.checker.maxCommitSeen);
        this.attempt(() => node.readIndex(encodeReadCtx(id)));
      }
    }
    if (p.chance(w.confChangeRate)) this.membership();
    if (p.chance(w.transferRate)) {
      const node = this.pickTarget();
      const to = p.pick(this.globalConf.voters);
      if (node !== undefined) {
        this.trace.add(this.now, 'transfer', Number(node.id), Number(to));
        this.attempt(() => node.transferLeadership(to));
      }
    }
    if (p.chance(w.campaignRate)) {
      const live = this.liveNodes();
      if (live.length > 0) {
        const node = p.pick(live);
        this.trace.add(this.now, 'campaign', Number(node.id));
        node.campaign();
      }
    }
  }

  /** Mostly the leader, sometimes any live node (followers forward or drop). */
  private pickTarget(): SimNode | undefined {
    const leader = this.leader();
    if (leader !== undefined && this.prng.chance(0.6)) return leader;
    const live = this.liveNodes();
    return live.length > 0 ? this.prng.pick(live) : undefined;
  }

  private attempt(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!isExpectedRejection(err)) throw err;
      this.trace.add(this.now, 'rejected', 0, 0, 0, 0, (err as RaftError).code);
    }
  }

  /**
   * At most one change in flight (a second proposal, rarely made, may only add a learner and
   * should be dropped by the core anyway). Voters stay between 3 and 7; members at most 9.
   */
  private membership(): void {
    const p = this.prng;
    const concurrent = this.pendingConf !== undefined && this.now - this.pendingConf.at < 300;
    if (concurrent && !p.chance(0.1)) return;
    const { voters, learners } = this.globalConf;
    const choices: ConfChangeType[] = [];
    if (voters.length + learners.length < 9) choices.push(ConfChangeType.AddLearnerNode);
    if (!concurrent && learners.length > 0 && voters.length < 7) choices.push(ConfChangeType.AddNode);
    if (!concurrent && voters.length > 3) choices.push(ConfChangeType.RemoveNode);
    if (choices.length === 0) return;
    const type = p.pick(choices);
    let nodeId: NodeId;
    if (type === ConfChangeType.AddLearnerNode) nodeId = BigInt(this.nextNodeId++);
    else if (type === ConfChangeType.AddNode) nodeId = p.pick(learners);
    else nodeId = p.pick(voters);
    const node = this.pickTarget();
    if (node === undefined) return;
    const cc: ConfChange = { type, nodeId };
    this.trace.add(this.now, 'confchange', Number(node.id), type, Number(nodeId));
    try {
      node.proposeConfChange(cc);
      if (!concurrent) this.pendingConf = { cc, at: this.now };
    } catch (err) {
      if (!isExpectedRejection(err)) throw err;
      this.trace.add(this.now, 'rejected', Number(node.id), 0, 0, 0, (err as RaftError).code);
    }
  }

  private deliver(): void {
    for (const env of this.network.takeDue(this.now)) {
      const m = env.msg;
      const to = this.byId.get(m.to);
      const from = this.byId.get(m.from);
      if (env.lost || to === undefined || !to.live || to.removed || from?.removed === true || this.network.isCut(m.from, m.to)) {
        this.trace.add(this.now, env.lost ? 'lost' : 'drop', Number(m.from), Number(m.to), m.term, m.index, m.type);
        if (from !== undefined && from.live && from.incarnation === env.fromIncarnation) {
          if (m.type === MessageType.MsgSnap) from.reportSnapshot(m.to, SnapshotStatus.Failure);
          else if (!this.calm && this.prng.chance(this.params.net.reportUnreachableRate)) from.reportUnreachable(m.to);
        }
        continue;
      }
      this.trace.add(this.now, 'deliver', Number(m.from), Number(m.to), m.term, m.index, () => describeMessage(m));
      if (m.type === MessageType.MsgSnap) this.snapshotsDelivered++;
      else if (m.type === MessageType.MsgTimeoutNow) this.transfers++;
      this.attempt(() => to.step(m));
      if (m.type === MessageType.MsgSnap && from !== undefined && from.live && from.incarnation === env.fromIncarnation) {
        from.reportSnapshot(m.to, SnapshotStatus.Finish);
      }
    }
  }

  private endOfStep(): void {
    for (const n of this.nodes) if (n.live) n.process();
    while (this.toStop.length > 0) (this.toStop.pop() as SimNode).stop();
  }

  // ---- NodeHost -----------------------------------------------------------------------------

  send(from: SimNode, m: Message): void {
    this.checker.observeSent(m, from.storage.initialState().hardState);
    this.network.send(m, this.now, from.incarnation);
  }

  storageOf(id: NodeId): MemoryStorage | undefined {
    return this.byId.get(id)?.storage;
  }

  onConfApplied(node: SimNode, cc: ConfChange, cs: ConfState, index: number): void {
    if (index <= this.globalConfIndex) return;
    // The first member to apply the change at `index` defines the configuration there; the
    // state machine safety check makes every other member agree.
    this.globalConfIndex = index;
    this.globalConf = cs;
    this.confChangesApplied++;
    const pc = this.pendingConf;
    if (pc !== undefined && pc.cc.type === cc.type && pc.cc.nodeId === cc.nodeId) this.pendingConf = undefined;
    if (cc.type === ConfChangeType.AddLearnerNode && !this.byId.has(cc.nodeId)) {
      // The operator starts the new member once its addition committed: empty storage, no
      // bootstrap; it learns the cluster from the leader's snapshot.
      const added = this.addNode(cc.nodeId);
      added.start(this.raftPrng.fork());
    }
    if (cc.type === ConfChangeType.RemoveNode) {
      // Like etcd's transport, peers refuse a removed member's traffic; it is stopped at the
      // end of the step, once it has finished handling its Ready.
      const removed = this.byId.get(cc.nodeId);
      if (removed !== undefined && !removed.removed) {
        this.toStop.push(removed);
        removed.removed = true;
      }
    }
    this.trace.add(this.now, 'config', Number(node.id), index, 0, 0, () => describeConf(cs));
  }

  onCrash(node: SimNode, _point: string): void {
    const f = this.params.faults;
    node.restartAt = this.now + this.prng.range(f.minDownSteps, f.maxDownSteps);
  }

  // ---- liveness -----------------------------------------------------------------------------

  /**
   * Stop all faults, heal the network, restart every crashed member; then, within 20 election
   * timeouts of ticks, some leader must commit a fresh marker proposal and every voter must
   * apply it.
   */
  private checkLiveness(): void {
    const startStep = this.now;
    this.calm = true;
    this.network.calm = true;
    this.network.heal();
    if (this.options.sabotageLiveness === true) {
      const ids = this.nodes.map((n) => n.id);
      for (const id of ids) this.network.partition([id], ids.filter((x) => x !== id));
    }
    this.trace.add(this.now, 'liveness-start');
    for (const n of this.nodes) if (!n.live && !n.removed) n.start(this.raftPrng.fork());

    const electionTick = this.params.raft.electionTick;
    const maxTicks = 20 * electionTick;
    const markers: number[] = [];
    let lastMarkerTick = -Infinity;
    let ok = false;
    for (let t = 0; t < maxTicks && !ok; t++) {
      this.now++;
      this.calmSteps++;
      for (const n of this.nodes) if (n.live) n.tick();
      this.deliver();
      this.endOfStep();
      const leader = this.leader();
      if (leader !== undefined && t - lastMarkerTick >= 2 * electionTick) {
        const id = ++this.proposalSeq;
        lastMarkerTick = t;
        try {
          leader.propose(encodeProposal(ProposalKind.Marker, id, 0));
          markers.push(id);
          this.trace.add(this.now, 'marker', Number(leader.id), id);
        } catch (err) {
          if (!isExpectedRejection(err)) throw err;
        }
      }
      ok = markers.some((id) => this.markerApplied(id));
    }
    if (!ok) {
      const leader = this.leader();
      throw new Violation(
        `liveness: no progress within ${maxTicks} calm ticks (from step ${startStep}): ` +
          (leader === undefined
            ? 'no leader'
            : `leader ${leader.id} (term ${leader.lastStatus?.term ?? '?'}) did not get a marker applied on every voter`) +
          ` (markers proposed: ${markers.length})`,
      );
    }
    for (const n of this.nodes) this.checker.scanLog(n.id, n.storage);
    this.trace.add(this.now, 'liveness-ok', this.now - startStep);
    this.calm = false;
    this.network.calm = false;
  }

  private markerApplied(id: number): boolean {
    const index = this.checker.committedIndexOfMarker(id);
    if (index === undefined) return false;
    for (const v of this.globalConf.voters) {
      const node = this.byId.get(v);
      if (node === undefined || !node.live || node.sm.applied < index) return false;
    }
    return true;
  }
}

