import { assert } from '../util/assert.js';
import { RaftError } from './errors.js';
import { Raft, type Config } from './raft.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  emptyMessage,
  encodeConfChange,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProgressState,
  type Ready,
  type SnapshotStatus,
  type SoftState,
  StateType,
} from './types.js';

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  lead: NodeId;
  state: StateType;
  leadTransferee: NodeId;
  config: ConfState;
  /** On the leader: every member's replication progress. Empty elsewhere. */
  progress: Map<NodeId, { match: number; next: number; state: ProgressState }>;
}

/** What a Ready handed out, so that advance() can acknowledge exactly that. */
interface Handed {
  lastEntry: { index: number; term: number } | undefined;
  snapshotIndex: number;
  lastCommitted: number;
  hardState: HardState | undefined;
}

/**
 * The application's handle on a Raft member: feed it ticks, messages and requests; take a Ready;
 * do what it says (see Ready in types.ts); call advance(). Single-threaded and synchronous.
 * Inputs may be given between ready() and advance(); ready() may not be called again before
 * advance().
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private handed: Handed | undefined = undefined;

  constructor(config: Config) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  campaign(): void {
    this.raft.step(emptyMessage(MessageType.MsgHup, this.raft.id, this.raft.id, 0));
  }

  /** Propose data to be appended to the log. Throws RaftError 'ProposalDropped' when this
   * member cannot accept it now (no leader, leadership transfer under way, ...). */
  propose(data: Uint8Array): void {
    this.raft.step({ ...emptyMessage(MessageType.MsgProp, NONE, this.raft.id, 0), entries: [entry(EntryType.Normal, data)] });
  }

  /** Propose a membership change. One change at a time: while one is pending, or before a new
   * leader has applied an entry of its own term, the proposal is dropped (RaftError). */
  proposeConfChange(cc: ConfChange): void {
    if (cc.nodeId === NONE) throw new RaftError('InvalidArgument', 'conf change with node id 0');
    if (cc.type !== ConfChangeType.AddNode && cc.type !== ConfChangeType.RemoveNode && cc.type !== ConfChangeType.AddLearnerNode) {
      throw new RaftError('InvalidArgument', `unknown conf change type ${String(cc.type)}`);
    }
    this.raft.step({ ...emptyMessage(MessageType.MsgProp, NONE, this.raft.id, 0), entries: [entry(EntryType.ConfChange, encodeConfChange(cc))] });
  }

  /** A message from a peer. Local message types and responses from non-members are ignored. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) return;
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from) && m.from !== this.raft.id) return;
    if (m.type === MessageType.MsgProp && m.entries.length === 0) return;
    try {
      this.raft.step(m);
    } catch (e) {
      // A forwarded proposal that cannot be accepted is dropped silently (its proposer times
      // out); only local callers get the error.
      if (e instanceof RaftError && e.code === 'ProposalDropped') return;
      throw e;
    }
  }

  /** Ask for a read index; the answer comes as a ReadState with the same ctx. Requests made
   * before the next ready() share one heartbeat round. Dropped when no leader is known. */
  readIndex(ctx: Uint8Array): void {
    this.raft.step({ ...emptyMessage(MessageType.MsgReadIndex, NONE, this.raft.id, 0), context: ctx });
  }

  transferLeadership(to: NodeId): void {
    this.raft.step(emptyMessage(MessageType.MsgTransferLeader, NONE, to, 0));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(emptyMessage(MessageType.MsgUnreachable, NONE, id, 0));
  }

  reportSnapshot(id: NodeId, status: SnapshotStatus): void {
    this.raft.step({ ...emptyMessage(MessageType.MsgSnapStatus, NONE, id, 0), reject: status === 'failure' });
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  hasReady(): boolean {
    if (this.handed) return false;
    const r = this.raft;
    if (!softStateEqual(this.softState(), this.prevSoft)) return true;
    if (!hardStateEqual(r.hardState(), this.prevHard)) return true;
    if (r.log.hasPendingSnapshot() || r.log.unstable.entries.length > 0) return true;
    if (r.msgs.length > 0 || r.leaderMsgs.length > 0 || r.readStates.length > 0) return true;
    if (r.hasPendingReadRound()) return true;
    return r.log.hasNextCommittedEntries();
  }

  ready(): Ready {
    assert(this.handed === undefined, 'ready() called again before advance()');
    const r = this.raft;
    r.flushReadIndex();
    const soft = this.softState();
    const hard = r.hardState();
    const entries = r.log.unstable.entries.slice();
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = r.log.nextCommittedEntries();
    const hardChanged = !hardStateEqual(hard, this.prevHard);
    const rd: Ready = {
      ...(softStateEqual(soft, this.prevSoft) ? {} : { softState: soft }),
      ...(hardChanged ? { hardState: hard } : {}),
      readStates: r.readStates,
      entries,
      ...(snapshot ? { snapshot } : {}),
      committedEntries,
      messages: r.msgs,
      leaderMessages: r.leaderMsgs,
      mustSync: entries.length > 0 || snapshot !== undefined || (hardChanged && (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote)),
    };
    r.msgs = [];
    r.leaderMsgs = [];
    r.readStates = [];
    const last = entries[entries.length - 1];
    this.handed = {
      lastEntry: last ? { index: last.index, term: last.term } : undefined,
      snapshotIndex: snapshot ? snapshot.metadata.index : 0,
      lastCommitted: committedEntries.length > 0 ? (committedEntries[committedEntries.length - 1] as Entry).index : 0,
      hardState: hardChanged ? hard : undefined,
    };
    this.prevSoft = soft;
    return rd;
  }

  /** The last Ready is done: its state is durable, its messages sent, its entries applied. */
  advance(): void {
    const h = this.handed;
    assert(h !== undefined, 'advance() without ready()');
    this.handed = undefined;
    const r = this.raft;
    if (h.hardState) this.prevHard = h.hardState;
    if (h.snapshotIndex > 0) {
      r.log.unstable.stableSnapTo(h.snapshotIndex);
      if (r.log.applied < h.snapshotIndex) r.log.applied = h.snapshotIndex;
    }
    if (h.lastCommitted > 0) r.log.appliedTo(h.lastCommitted);
    if (h.lastEntry) {
      r.log.unstable.stableTo(h.lastEntry.index, h.lastEntry.term);
      r.onPersisted(h.lastEntry.index, h.lastEntry.term);
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, { match: number; next: number; state: ProgressState }>();
    if (r.state === 'StateLeader') {
      for (const [id, pr] of r.trk.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lead: r.lead,
      state: r.state,
      leadTransferee: r.leadTransferee,
      config: r.trk.confState(),
      progress,
    };
  }

  // Cheap reads of the node's state for the application's hot paths (status() builds maps).

  term(): number {
    return this.raft.term;
  }

  lead(): NodeId {
    return this.raft.lead;
  }

  isLeader(): boolean {
    return this.raft.state === StateType.Leader;
  }

  committed(): number {
    return this.raft.log.committed;
  }

  lastIndex(): number {
    return this.raft.log.lastIndex();
  }

  hardState(): HardState {
    return this.raft.hardState();
  }

  confState(): ConfState {
    return this.raft.trk.confState();
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, state: this.raft.state };
  }
}

function entry(type: EntryType, data: Uint8Array): Entry {
  return { term: 0, index: 0, type, data };
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.state === b.state;
}
