import {
  decodeConfChange,
  EntryType,
  MemoryStorage,
  MessageType,
  NONE,
  RawNode,
  StateType,
  type Config,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type SnapshotStatus,
  type Status,
} from '../../../src/raft/index.js';
import type { Logger, LogFields } from '../../../src/util/logger.js';
import type { Prng } from '../../../src/util/prng.js';
import { LogView } from './log-view.js';
import { decodeProposal, ProposalKind } from './proposal.js';
import type { SafetyChecker } from './safety-checker.js';
import { Violation } from './sim-failure.js';
import type { SimParams } from './sim-params.js';
import { ChainStateMachine, entryDigest } from './state-machine.js';
import type { Trace } from './trace.js';

/**
 * Where a node may crash while handling a Ready, named like etcd's gofail points:
 *  - 'before-persist': after sending rd.leaderMessages (the leader's parallel path), before
 *    anything of the Ready is durable; nothing of it survives and rd.messages are never sent;
 *  - 'after-persist': durable, but no message of the Ready was sent;
 *  - 'after-send': sent, not applied (the restart re-applies from the snapshot);
 *  - 'after-apply': applied, advance() never called.
 */
export type CrashPoint = 'before-persist' | 'after-persist' | 'after-send' | 'after-apply';
const CRASH_POINTS: readonly CrashPoint[] = ['before-persist', 'before-persist', 'before-persist', 'after-persist', 'after-send', 'after-apply'];

/** What Ready.leaderMessages may hold: a leader's replication traffic, which promises nothing
 * about its own disk (types.ts). Anything else there (an ack, a vote or a vote request) would
 * go out before the state it vouches for is durable. */
const LEADER_PARALLEL_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.MsgApp,
  MessageType.MsgHeartbeat,
  MessageType.MsgSnap,
  MessageType.MsgTimeoutNow,
]);

/**
 * Deliberate application bugs, used only to prove that the checks can fail:
 *  - 'send-before-persist': rd.messages go out with rd.leaderMessages, before persisting (so a
 *    follower acks entries and a voter grants votes it may lose in a crash);
 *  - 'forget-vote': the HardState is persisted without its vote, so a restarted member may vote
 *    twice in one term.
 */
export type Mutation = 'send-before-persist' | 'forget-vote';

/** What a node needs from the simulation around it. */
export interface NodeHost {
  readonly now: number;
  readonly params: SimParams;
  readonly checker: SafetyChecker;
  readonly trace: Trace;
  /** Decisions inside Ready handling: eager handling, persistence delays, crash points. */
  readonly prng: Prng;
  /** The liveness check runs without crashes or delayed persistence. */
  readonly calm: boolean;
  readonly mutation: Mutation | undefined;
  readonly verbose: boolean;
  send(from: SimNode, m: Message): void;
  /** A member's disk, if it ever existed. */
  storageOf(id: NodeId): MemoryStorage | undefined;
  /** A committed ConfChange was applied on `node` at `index`. */
  onConfApplied(node: SimNode, cc: ConfChange, cs: ConfState, index: number): void;
  onCrash(node: SimNode, point: string): void;
}

interface PendingReady {
  readonly rd: Ready;
  readonly dueStep: number;
  readonly leaderSent: boolean;
  readonly crashPoint: CrashPoint | undefined;
}

/**
 * One member: a RawNode, its durable MemoryStorage and its state machine, driven through the
 * application loop of notes/raft-api.md. Every input goes through a method here, which then
 * reads status() so the checks see every leader and commit index as it appears; the Ready
 * handler reports what it persists, sends and applies.
 *
 * A crash drops the RawNode, the state machine and any Ready not yet persisted; the
 * MemoryStorage is the disk and survives. start() is both the first start and a restart.
 */
export class SimNode {
  readonly storage = new MemoryStorage();
  private raw: RawNode | undefined;
  sm = new ChainStateMachine(0, 0, 0);
  /** The configuration as of sm.applied (for the snapshots this node takes). */
  confState: ConfState = { voters: [], learners: [] };
  incarnation = 0;
  /** Removed from the cluster and stopped for good. */
  removed = false;
  /** When a crashed node comes back (in steps). */
  restartAt = 0;
  crashes = 0;
  lastStatus: Status | undefined;
  private pending: PendingReady | undefined;
  /** Inside the Ready handler: inputs made meanwhile must not start another Ready. */
  private inReady = false;
  /** The hard state raft last handed out, in this incarnation. */
  private memHs: HardState = { term: 0, vote: NONE, commit: 0 };
  /** Entries up to here were reported to the checker as committed. */
  private commitChecked = 0;
  /** A term this node was seen leading whose log has not been checked yet (0 = none). */
  private leaderTermToCheck = 0;
  private lastLeaderTerm = 0;

  constructor(
    readonly id: NodeId,
    private readonly host: NodeHost,
  ) {}

  get live(): boolean {
    return this.raw !== undefined;
  }

  get hasPendingReady(): boolean {
    return this.pending !== undefined;
  }

  get isLeader(): boolean {
    return this.lastStatus?.state === StateType.Leader;
  }

  start(raftPrng: Prng): void {
    const snap = this.storage.snapshot();
    this.sm = ChainStateMachine.restore(snap);
    this.host.checker.checkChain(this.id, this.sm.applied, this.sm.chain);
    this.confState = snap.metadata.confState;
    this.memHs = this.storage.initialState().hardState;
    this.commitChecked = snap.metadata.index;
    this.leaderTermToCheck = 0;
    this.lastLeaderTerm = 0;
    this.pending = undefined;
    this.lastStatus = undefined;
    const r = this.host.params.raft;
    const config: Config = {
      id: this.id,
      electionTick: r.electionTick,
      heartbeatTick: r.heartbeatTick,
      storage: this.storage,
      prng: raftPrng,
      applied: snap.metadata.index,
      checkQuorum: r.checkQuorum,
      preVote: r.preVote,
      readOnlyOption: r.readOnlyOption,
      logger: this.logger(),
      ...(r.maxSizePerMsg !== undefined ? { maxSizePerMsg: r.maxSizePerMsg } : {}),
      ...(r.maxInflightMsgs !== undefined ? { maxInflightMsgs: r.maxInflightMsgs } : {}),
    };
    this.incarnation++;
    this.raw = new RawNode(config);
    this.host.trace.add(this.host.now, 'start', Number(this.id), this.incarnation, this.memHs.term, this.sm.applied);
    this.afterInput(false);
  }

  crash(point: string): void {
    if (this.raw === undefined) return;
    this.raw = undefined;
    this.pending = undefined;
    this.lastStatus = undefined;
    this.crashes++;
    this.host.trace.add(this.host.now, 'crash', Number(this.id), this.incarnation, 0, 0, point);
    this.host.onCrash(this, point);
  }

  /** Removed from the configuration: stop for good. */
  stop(): void {
    this.raw = undefined;
    this.pending = undefined;
    this.lastStatus = undefined;
    this.removed = true;
    this.host.trace.add(this.host.now, 'stop', Number(this.id));
  }

  // ---- inputs ---------------------------------------------------------------------------------

  tick(): void {
    this.node().tick();
    this.afterInput(true);
  }

  campaign(): void {
    this.node().campaign();
    this.afterInput(true);
  }

  /** Throws RaftError 'ProposalDropped' like RawNode.propose. */
  propose(data: Uint8Array): void {
    try {
      this.node().propose(data);
    } finally {
      this.afterInput(true);
    }
  }

  proposeConfChange(cc: ConfChange): void {
    try {
      this.node().proposeConfChange(cc);
    } finally {
      this.afterInput(true);
    }
  }

  step(m: Message): void {
    try {
      this.node().step(m);
    } finally {
      this.afterInput(true);
    }
  }

  readIndex(ctx: Uint8Array): void {
    try {
      this.node().readIndex(ctx);
    } finally {
      this.afterInput(true);
    }
  }

  transferLeadership(to: NodeId): void {
    try {
      this.node().transferLeadership(to);
    } finally {
      this.afterInput(true);
    }
  }

  reportUnreachable(id: NodeId): void {
    this.node().reportUnreachable(id);
    this.afterInput(true);
  }

  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.node().reportSnapshot(id, status);
    this.afterInput(true);
  }

  private node(): RawNode {
    if (this.raw === undefined) throw new Error(`node ${this.id} is not running`);
    return this.raw;
  }

  /** Observe the node after an input; maybe handle its Ready right away. */
  private afterInput(mayHandleReady: boolean): void {
    const raw = this.raw;
    if (raw === undefined) return; // crashed while handling the input's Ready
    const st = raw.status();
    const prev = this.lastStatus;
    if (prev !== undefined) {
      if (st.term < prev.term) throw new Violation(`node ${this.id}: term went back from ${prev.term} to ${st.term}`);
      if (st.commit < prev.commit) throw new Violation(`node ${this.id}: commit index went back from ${prev.commit} to ${st.commit}`);
    }
    this.lastStatus = st;
    this.host.checker.observeCommitIndex(st.commit);
    const stillLeading = prev?.state === StateType.Leader && st.state === StateType.Leader && st.term === prev.term;
    if (prev !== undefined && stillLeading && st.commit > prev.commit) {
      const view = new LogView(this.storage, this.pending?.rd);
      this.host.checker.checkLeaderCommit(this.id, st.term, st.commit, view, st.config.voters, (id) => this.host.storageOf(id));
    }
    if (st.state === StateType.Leader) {
      this.host.checker.observeLeader(this.id, st.term, 'status');
      if (st.term !== this.lastLeaderTerm) {
        this.lastLeaderTerm = st.term;
        this.leaderTermToCheck = st.term;
        this.host.trace.add(this.host.now, 'leader', Number(this.id), st.term, st.commit);
      }
    }
    if (mayHandleReady && this.host.prng.chance(this.host.params.work.eagerReadyRate)) this.handleReady();
  }

  // ---- the Ready handler -------------------------------------------------------------------

  /** Finish a Ready whose persistence is due; then take a new one if there is one. */
  process(): void {
    const p = this.pending;
    if (p !== undefined && !this.inReady && (p.dueStep <= this.host.now || this.host.calm)) {
      this.pending = undefined;
      this.inReady = true;
      try {
        this.finish(p.rd, p.leaderSent, p.crashPoint);
      } finally {
        this.inReady = false;
      }
    }
    this.handleReady();
  }

  private handleReady(): void {
    const raw = this.raw;
    if (raw === undefined || this.pending !== undefined || this.inReady || !raw.hasReady()) return;
    this.inReady = true;
    try {
      this.takeReady(raw);
    } finally {
      this.inReady = false;
    }
  }

  private takeReady(raw: RawNode): void {
    const rd = raw.ready();
    const host = this.host;
    const checker = host.checker;
    const id = this.id;
    const sent = rd.messages.length + rd.leaderMessages.length;
    host.trace.add(host.now, 'ready', Number(id), rd.entries.length, rd.committedEntries.length, sent, () => describeReady(rd));

    // What this Ready says about the node's log and hard state, checked when raft hands it out.
    const view = new LogView(this.storage, rd);
    const hs = rd.hardState;
    if (hs !== undefined) {
      const m = this.memHs;
      if (hs.term < m.term) throw new Violation(`node ${id}: HardState term went back from ${m.term} to ${hs.term}`);
      if (hs.term === m.term && m.vote !== NONE && hs.vote !== m.vote) {
        throw new Violation(`node ${id}: vote in term ${hs.term} changed from ${m.vote} to ${hs.vote}`);
      }
      if (hs.commit < m.commit) throw new Violation(`node ${id}: HardState commit went back from ${m.commit} to ${hs.commit}`);
    }
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index <= this.storage.firstIndex() - 1) {
      throw new Violation(`node ${id}: Ready snapshot at ${rd.snapshot.metadata.index} is not newer than the stored one`);
    }
    checker.checkAppend(id, this.storage, view, rd);
    const commit = hs?.commit ?? this.memHs.commit;
    const term = hs?.term ?? this.memHs.term;
    if (hs !== undefined) this.memHs = hs;
    if (commit > this.commitChecked) {
      checker.recordCommit(id, view, this.commitChecked + 1, commit, term);
      this.commitChecked = commit;
    }
    if (this.leaderTermToCheck !== 0) {
      const st = this.lastStatus;
      if (st !== undefined && st.state === StateType.Leader && st.term === this.leaderTermToCheck) {
        checker.checkLeaderCompleteness(id, st.term, view);
      }
      this.leaderTermToCheck = 0;
    }
    const safeReads = host.params.raft.readOnlyOption === 'safe';
    for (const rs of rd.readStates) checker.onReadState(id, rs, safeReads);
    for (const m of rd.leaderMessages) {
      if (checker.rules && !LEADER_PARALLEL_TYPES.has(m.type)) {
        throw new Violation(`node ${id}: ${m.type} to ${m.to} is in leaderMessages, which may be sent before the Ready is durable`);
      }
    }

    // The parallel path: the leader's replication traffic leaves before the disk write.
    const work = host.params.work;
    const leaderSent = host.prng.chance(work.leaderParallelRate) || host.mutation === 'send-before-persist';
    if (leaderSent) {
      for (const m of rd.leaderMessages) host.send(this, m);
      if (host.mutation === 'send-before-persist') for (const m of rd.messages) host.send(this, m);
    }
    let crashPoint: CrashPoint | undefined;
    if (!host.calm && host.prng.chance(host.params.faults.crashInReadyRate)) crashPoint = host.prng.pick(CRASH_POINTS);
    if (!host.calm && host.prng.chance(work.asyncPersistRate)) {
      this.pending = { rd, dueStep: host.now + host.prng.range(1, work.maxPersistDelaySteps), leaderSent, crashPoint };
      return;
    }
    this.finish(rd, leaderSent, crashPoint);
  }

  private finish(rd: Ready, leaderSent: boolean, plannedCrash: CrashPoint | undefined): void {
    const raw = this.raw;
    if (raw === undefined) return;
    const host = this.host;
    // A Ready taken before the liveness check began may still be pending: no crash now.
    const crashPoint = host.calm ? undefined : plannedCrash;

    // A crash just before the write completes: the longest window in which the rest of the
    // cluster may act on leaderMessages (and the leader on their answers).
    if (crashPoint === 'before-persist') {
      this.crash(crashPoint);
      return;
    }

    // 1. Persist: snapshot, entries, hard state.
    if (rd.snapshot !== undefined) {
      this.storage.applySnapshot(rd.snapshot);
      this.sm = ChainStateMachine.restore(rd.snapshot);
      this.confState = rd.snapshot.metadata.confState;
      host.checker.checkChain(this.id, this.sm.applied, this.sm.chain);
      host.trace.add(host.now, 'restore', Number(this.id), rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    this.storage.append(rd.entries);
    if (rd.hardState !== undefined) {
      this.storage.setHardState(host.mutation === 'forget-vote' ? { ...rd.hardState, vote: NONE } : rd.hardState);
    }
    if (crashPoint === 'after-persist') {
      this.crash(crashPoint);
      return;
    }

    // 2. Send: only now may messages claim that the above is durable.
    if (!leaderSent) for (const m of rd.leaderMessages) host.send(this, m);
    if (host.mutation !== 'send-before-persist' || !leaderSent) for (const m of rd.messages) host.send(this, m);
    if (crashPoint === 'after-send') {
      this.crash(crashPoint);
      return;
    }

    // 3. Apply.
    for (const e of rd.committedEntries) {
      this.apply(raw, e);
      if (this.raw === undefined) return;
    }
    if (crashPoint === 'after-apply') {
      this.crash(crashPoint);
      return;
    }

    // 4. Advance, then maybe snapshot and compact.
    raw.advance();
    this.maybeSnapshot();
    this.afterInput(false);
  }

  private apply(raw: RawNode, e: Entry): void {
    if (e.index !== this.sm.applied + 1) {
      throw new Violation(`node ${this.id}: applies entry ${e.index} after ${this.sm.applied}`);
    }
    const digest = entryDigest(e);
    const isWrite = e.type === EntryType.Normal && e.data.byteLength > 0 && decodeProposal(e.data)?.kind === ProposalKind.Write;
    const chain = this.sm.apply(e, digest, isWrite);
    this.host.checker.checkApply(this.id, e, digest, chain);
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      const cs = raw.applyConfChange(cc);
      this.confState = cs;
      this.host.trace.add(this.host.now, 'conf', Number(this.id), e.index, cc.type, Number(cc.nodeId), () => describeConf(cs));
      this.host.onConfApplied(this, cc, cs, e.index);
    }
  }

  private maybeSnapshot(): void {
    const work = this.host.params.work;
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.sm.applied - snapIndex < work.snapshotEvery) return;
    this.storage.createSnapshot(this.sm.applied, this.confState, this.sm.serialize());
    const compactIndex = this.sm.applied - this.host.prng.int(work.maxKeepEntries + 1);
    if (compactIndex > this.storage.firstIndex() - 1) this.storage.compact(compactIndex);
    this.host.trace.add(this.host.now, 'snapshot', Number(this.id), this.sm.applied, this.storage.firstIndex());
  }

  private logger(): Logger {
    const host = this.host;
    const id = Number(this.id);
    const line = (level: string, msg: string, fields?: LogFields): void =>
      host.trace.add(host.now, 'log', id, 0, 0, 0, () => `${level} ${msg}${fields === undefined ? '' : ' ' + describeFields(fields)}`);
    return {
      debug: (msg, fields) => {
        if (host.verbose) line('debug', msg, fields);
      },
      info: (msg, fields) => line('info', msg, fields),
      warn: (msg, fields) => line('warn', msg, fields),
      error: (msg, fields) => line('error', msg, fields),
    };
  }

  /** One line about this node for failure reports. */
  describe(): string {
    const st = this.lastStatus;
    const state = this.removed ? 'removed' : this.raw === undefined ? 'down' : (st?.state ?? '?');
    return (
      `node ${this.id}: ${state} term=${st?.term ?? this.memHs.term} lead=${st?.lead ?? '?'} commit=${st?.commit ?? '?'}` +
      ` applied=${this.sm.applied} log=[${this.storage.firstIndex()}..${this.storage.lastIndex()}]` +
      ` hs=${this.storage.initialState().hardState.term}/${this.storage.initialState().hardState.vote}/${this.storage.initialState().hardState.commit}` +
      ` conf=${describeConf(this.confState)}${this.pending !== undefined ? ' (Ready pending)' : ''}`
    );
  }

  /** Folded into the run's hash at the end. */
  fingerprint(): number[] {
    const hs = this.storage.initialState().hardState;
    return [Number(this.id), this.live ? 1 : 0, hs.term, Number(hs.vote), hs.commit, this.storage.lastIndex(), this.sm.applied, this.sm.chain];
  }
}

export function describeConf(cs: ConfState): string {
  return `v{${cs.voters.join(',')}}${cs.learners.length > 0 ? ` l{${cs.learners.join(',')}}` : ''}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} t${m.term}`;
  if (m.logTerm !== 0 || m.index !== 0) s += ` log=${m.index}@${m.logTerm}`;
  if (m.entries.length > 0) s += ` ents=${(m.entries[0] as Entry).index}..${(m.entries[m.entries.length - 1] as Entry).index}`;
  if (m.commit !== 0) s += ` commit=${m.commit}`;
  if (m.reject) s += ` reject(hint=${m.rejectHint})`;
  if (m.snapshot !== undefined) s += ` snap=${m.snapshot.metadata.index}@${m.snapshot.metadata.term}`;
  return s;
}

function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState !== undefined) parts.push(`soft=${rd.softState.state}/lead ${rd.softState.lead}`);
  if (rd.hardState !== undefined) parts.push(`hs=${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`);
  if (rd.snapshot !== undefined) parts.push(`snap=${rd.snapshot.metadata.index}@${rd.snapshot.metadata.term}`);
  if (rd.entries.length > 0) parts.push(`ents=${describeEntries(rd.entries)}`);
  if (rd.committedEntries.length > 0) parts.push(`apply=${describeEntries(rd.committedEntries)}`);
  if (rd.readStates.length > 0) parts.push(`reads=${rd.readStates.map((r) => r.index).join(',')}`);
  return parts.join(' ');
}

function describeEntries(ents: readonly Entry[]): string {
  const first = ents[0] as Entry;
  const last = ents[ents.length - 1] as Entry;
  return first === last ? `${first.index}@${first.term}` : `${first.index}@${first.term}..${last.index}@${last.term}`;
}

function describeFields(fields: LogFields): string {
  return JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? `<${v.length}B>` : v));
}

