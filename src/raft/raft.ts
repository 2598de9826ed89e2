import { assert } from '../util/assert.js';
import { nopLogger, type Logger } from '../util/logger.js';
import type { Prng } from '../util/prng.js';
import { RaftError, errProposalDropped } from './errors.js';
import { RaftLog } from './log.js';
import { isRoundContext, ReadOnly } from './read-only.js';
import type { Storage } from './storage.js';
import { cmpId, ProgressTracker, VoteResult } from './tracker.js';
import {
  CAMPAIGN_TRANSFER,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  ProgressState,
  StateType,
  emptyMessage,
  entrySize,
  isEmptyHardState,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
} from './types.js';

export interface Config {
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; the actual timeout is
   * drawn in [electionTick, 2*electionTick). */
  electionTick: number;
  /** Ticks between a leader's heartbeats. */
  heartbeatTick: number;
  storage: Storage;
  /** The only source of randomness (election timeouts). */
  prng: Prng;
  /** The index the state machine has applied; on restart, entries after it are handed out again. */
  applied?: number;
  /** Bytes of entries per MsgApp. */
  maxSizePerMsg?: number;
  /** Bytes of committed entries per Ready. */
  maxCommittedSizePerReady?: number;
  maxInflightMsgs?: number;
  /** 0 means no limit. */
  maxInflightBytes?: number;
  /** A leader that has not heard from a quorum within an election timeout steps down, and
   * followers that heard from a leader within an election timeout refuse to vote. */
  checkQuorum?: boolean;
  /** Candidates first ask whether they could win (without raising terms), so a member that was
   * partitioned away does not disrupt the cluster when it returns. */
  preVote?: boolean;
  /** 'safe' confirms leadership with a heartbeat quorum per ReadIndex round; 'lease-based'
   * trusts the leader lease that checkQuorum provides (it depends on bounded clock drift). */
  readOnlyOption?: 'safe' | 'lease-based';
  logger?: Logger;
}

const DEFAULT_MAX_SIZE_PER_MSG = 1024 * 1024;
const DEFAULT_MAX_COMMITTED_PER_READY = 16 * 1024 * 1024;
const DEFAULT_MAX_INFLIGHT = 256;

/** Message types a leader sends that say nothing about its own disk: they may go out while the
 * leader's Ready is still being persisted (see Ready.leaderMessages). */
const LEADER_PARALLEL_TYPES = new Set<MessageType>([MessageType.MsgApp, MessageType.MsgHeartbeat, MessageType.MsgSnap, MessageType.MsgTimeoutNow]);

type StepFn = (m: Message) => void;

/**
 * The Raft state machine: elections with PreVote and CheckQuorum, log replication with
 * per-follower flow control, snapshots, ReadIndex, leadership transfer and single-step
 * membership changes. It performs no I/O: inputs come through step() and tick(); outputs
 * accumulate in `msgs`, `leaderMsgs`, `readStates` and the log's unstable part, and RawNode
 * hands them out as a Ready.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  state: StateType = StateType.Follower;
  lead: NodeId = NONE;
  /** The voter a leadership transfer is handing over to, or NONE. */
  leadTransferee: NodeId = NONE;
  /**
   * The index of the last configuration change this leader appended (or of its first no-op
   * entry). A new change is refused until applied >= pendingConfIndex: one change at a time,
   * and a new leader first commits and applies an entry of its own term.
   */
  pendingConfIndex = 0;

  /** Messages to send once the current Ready is durable. */
  msgs: Message[] = [];
  /** The leader's replication messages; may be sent before the Ready is durable. */
  leaderMsgs: Message[] = [];
  readStates: ReadState[] = [];

  private readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndex: Message[] = [];

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private randomizedElectionTimeout = 0;
  /** Follower/candidate: ticks since the last valid leader message (or since the election
   * began). Leader: ticks since the last CheckQuorum round. */
  electionElapsed = 0;
  private heartbeatElapsed = 0;

  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  readonly readOnlyOption: 'safe' | 'lease-based';
  private readonly maxSizePerMsg: number;
  private readonly prng: Prng;
  private readonly logger: Logger;
  private stepFn: StepFn;
  private tickFn: () => void;

  constructor(c: Config) {
    assert(c.id !== NONE, 'cannot use none as id');
    assert(c.heartbeatTick > 0, 'heartbeat tick must be greater than 0');
    assert(c.electionTick > c.heartbeatTick, 'election tick must be greater than heartbeat tick');
    const readOnlyOption = c.readOnlyOption ?? 'safe';
    if (readOnlyOption === 'lease-based' && !c.checkQuorum) {
      throw new RaftError('InvalidArgument', 'CheckQuorum must be enabled when ReadOnlyOption is lease-based');
    }
    this.id = c.id;
    this.electionTimeout = c.electionTick;
    this.heartbeatTimeout = c.heartbeatTick;
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.readOnlyOption = readOnlyOption;
    this.maxSizePerMsg = c.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG;
    this.prng = c.prng;
    this.logger = c.logger ?? nopLogger;
    this.log = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? DEFAULT_MAX_COMMITTED_PER_READY);
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT, c.maxInflightBytes ?? 0);

    const { hardState, confState } = c.storage.initialState();
    this.trk.setConfState(confState, this.log.lastIndex() + 1);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.log.appliedTo(c.applied);
    this.stepFn = this.stepFollower;
    this.tickFn = this.tickElection;
    this.becomeFollower(this.term, NONE);
    this.logger.info('raft: newRaft', {
      id: String(this.id),
      term: this.term,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      voters: confState.voters.map(String),
    });
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      `${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** Whether this node may campaign: it is a voter in its current configuration. */
  promotable(): boolean {
    return this.trk.voters.has(this.id);
  }

  // --- sending -------------------------------------------------------------------------------

  private send(m: Message): void {
    let msg = m;
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry an explicit term (a pre-vote asks for the next term).
      assert(m.term !== 0, `term should be set when sending ${m.type}`);
    } else if (m.type === MessageType.MsgProp || m.type === MessageType.MsgReadIndex || m.type === MessageType.MsgTransferLeader) {
      // Forwarded requests are local in nature: they carry no term.
      msg = { ...m, term: 0 };
    } else {
      msg = { ...m, term: this.term };
    }
    if (this.state === StateType.Leader && LEADER_PARALLEL_TYPES.has(msg.type)) this.leaderMsgs.push(msg);
    else this.msgs.push(msg);
  }

  private msg(type: MessageType, to: NodeId, fields: Partial<Message> = {}): Message {
    return { ...emptyMessage(type, to, this.id, this.term), ...fields };
  }

  /** Send the next MsgApp (or a snapshot) to `to` if its flow control allows. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let ents: Entry[] | undefined;
    if (prevTerm !== undefined) {
      try {
        ents = this.log.entries(pr.next, this.maxSizePerMsg);
      } catch (e) {
        if (!(e instanceof RaftError && e.code === 'Compacted')) throw e;
      }
    }
    if (prevTerm === undefined || ents === undefined) {
      return this.maybeSendSnapshot(to);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(this.msg(MessageType.MsgApp, to, { index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }));
    let bytes = 0;
    for (const e of ents) bytes += entrySize(e);
    pr.sentEntries(ents.length, ents.length > 0 ? (ents[ents.length - 1] as Entry).index : prevIndex, bytes);
    return true;
  }

  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.trk.progress.get(to);
    assert(pr !== undefined, 'snapshot to unknown peer');
    if (!pr.recentActive) return false;
    let snap;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (e instanceof RaftError && e.code === 'SnapshotTemporarilyUnavailable') return false;
      throw e;
    }
    assert(snap.metadata.index > 0, 'need non-empty snapshot');
    this.logger.debug('raft: sending snapshot', { to: String(to), index: snap.metadata.index, term: snap.metadata.term });
    pr.becomeSnapshot(snap.metadata.index);
    this.send(this.msg(MessageType.MsgSnap, to, { snapshot: snap }));
    return true;
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private bcastAppend(): void {
    for (const id of this.trk.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(ctx?: Uint8Array): void {
    const context = ctx ?? this.readOnly.lastRoundCtx();
    for (const [id, pr] of this.trk.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit beyond what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(this.msg(MessageType.MsgHeartbeat, id, context ? { commit, context } : { commit }));
    }
  }

  // --- role changes ---------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.becomeProbe();
      pr.match = 0;
      pr.next = last + 1;
      pr.recentActive = false;
      if (id === this.id) {
        // This node's own log counts only as far as it is durable.
        pr.match = this.log.lastStableIndex();
        pr.recentActive = true;
      }
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndex = [];
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.prng.int(this.electionTimeout);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = this.stepFollower;
    this.tickFn = this.tickElection;
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.debug('raft: became follower', { id: String(this.id), term, lead: String(lead) });
  }

  private becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]');
    this.stepFn = this.stepCandidate;
    this.tickFn = this.tickElection;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.debug('raft: became candidate', { id: String(this.id), term: this.term });
  }

  private becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]');
    // A pre-candidate changes neither its term nor its vote.
    this.stepFn = this.stepCandidate;
    this.tickFn = this.tickElection;
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
    this.logger.debug('raft: became pre-candidate', { id: String(this.id), term: this.term });
  }

  private becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'invalid transition [follower -> leader]');
    this.stepFn = this.stepLeader;
    this.tickFn = this.tickHeartbeat;
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    const self = this.trk.progress.get(this.id);
    assert(self !== undefined, 'leader has no progress of its own');
    self.becomeReplicate();
    self.match = this.log.lastStableIndex();
    self.next = this.log.lastIndex() + 1;
    // The empty entry of this term: it commits the entries of earlier terms (Figure 8), and
    // until it is applied no configuration change is accepted.
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }]);
    this.pendingConfIndex = this.log.lastIndex();
    this.logger.info('raft: became leader', { id: String(this.id), term: this.term });
  }

  // --- elections ------------------------------------------------------------------------------

  private hup(transfer: boolean): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) {
      this.logger.debug('raft: not promotable, cannot campaign', { id: String(this.id) });
      return;
    }
    // A committed but unapplied configuration change may change who votes: wait for it.
    if (this.hasUnappliedConfChange()) {
      this.logger.debug('raft: cannot campaign with pending configuration changes to apply', { id: String(this.id) });
      return;
    }
    this.campaign(this.preVote && !transfer ? 'pre' : 'election', transfer);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    if (lo > this.log.committed) return false;
    for (const e of this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  private campaign(kind: 'pre' | 'election', transfer: boolean): void {
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteType = MessageType.MsgPreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.MsgVote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single-voter cluster wins at once.
      if (kind === 'pre') this.campaign('election', transfer);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of [...this.trk.voters].sort(cmpId)) {
      if (id === this.id) continue;
      const fields: Partial<Message> = { term, index: lastIndex, logTerm: lastTerm };
      this.send(this.msg(voteType, id, transfer ? { ...fields, context: CAMPAIGN_TRANSFER } : fields));
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  // --- ticks ----------------------------------------------------------------------------------

  tick(): void {
    this.tickFn();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(emptyMessage(MessageType.MsgHup, this.id, this.id, 0));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(emptyMessage(MessageType.MsgCheckQuorum, this.id, this.id, 0));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(emptyMessage(MessageType.MsgBeat, this.id, this.id, 0));
    }
  }

  // --- step -----------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // Local message (or a forwarded proposal / read / transfer request).
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // This node heard from a leader within the minimum election timeout: the candidate
          // is probably a disrupted or partitioned member; ignore it and keep the term.
          this.logger.debug('raft: ignored vote request within lease', { id: String(this.id), from: String(m.from), term: m.term });
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // A pre-vote never changes the term of the voter.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // Pre-vote grants carry the term we would campaign in; our term rises only on winning.
      } else if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A stale leader (perhaps cut off, perhaps ignored because of checkQuorum) learns of
        // the newer term this way, steps down, and stops resetting followers' lease timers.
        this.send(this.msg(MessageType.MsgAppResp, m.from));
      } else if (m.type === MessageType.MsgPreVote) {
        this.send(this.msg(MessageType.MsgPreVoteResp, m.from, { term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(false);
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term);
        const respType = m.type === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp;
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          // The grant carries the candidate's term: for a pre-vote that is our future term.
          this.send(this.msg(respType, m.from, { term: m.term }));
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(this.msg(respType, m.from, { term: this.term, reject: true }));
        }
        return;
      }
      default:
        this.stepFn(m);
    }
  }

  /** A proposal that cannot be accepted: an error for a local caller, silence for a forward. */
  private dropProposal(m: Message, why: string): void {
    this.logger.debug('raft: proposal dropped', { id: String(this.id), why });
    if (m.from === this.id || m.from === NONE) throw errProposalDropped(why);
  }

  private stepLeader = (m: Message): void => {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat();
        return;
      case MessageType.MsgCheckQuorum:
        if (!this.trk.quorumActive()) {
          this.logger.warn('raft: stepped down to follower since quorum is not active', { id: String(this.id), term: this.term });
          this.becomeFollower(this.term, NONE);
        }
        for (const [id, pr] of this.trk.progress) pr.recentActive = id === this.id;
        return;
      case MessageType.MsgProp:
        this.leaderPropose(m);
        return;
      case MessageType.MsgReadIndex:
        this.leaderReadIndex(m);
        return;
      default:
        break;
    }

    const pr = this.trk.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.MsgAppResp: {
        pr.recentActive = true;
        if (m.reject) {
          let nextProbe = m.rejectHint;
          if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
          if (pr.maybeDecrTo(m.index, nextProbe)) {
            if (pr.state === ProgressState.Replicate) pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const wasPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === ProgressState.Probe) {
          pr.becomeReplicate();
        } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
          // The follower caught up through the snapshot (or past it): resume with entries.
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === ProgressState.Replicate) {
          pr.inflights.freeLE(m.index);
        }
        if (this.maybeCommit()) {
          this.bcastAppend();
        } else if (wasPaused) {
          this.sendAppend(m.from);
        }
        // Keep the pipeline full: send while flow control allows and entries remain.
        for (let i = 0; i < 1024 && this.maybeSendAppend(m.from, false); i++);
        if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
          this.logger.info('raft: sent MsgTimeoutNow after catching up', { to: String(m.from) });
          this.send(this.msg(MessageType.MsgTimeoutNow, m.from));
        }
        return;
      }
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true;
        pr.probeSent = false;
        // An acknowledgement may have been lost: free one slot so replication cannot stall.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (this.readOnlyOption === 'safe' && isRoundContext(m.context)) {
          this.releaseReads(this.readOnly.ack(m.context, m.from, (acks) => this.trk.hasQuorum(acks)));
        }
        return;
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's next answer (or a heartbeat) before probing again.
        pr.probeSent = true;
        return;
      case MessageType.MsgUnreachable:
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) {
          this.logger.debug('raft: ignored transferring leadership to a learner', { to: String(m.from) });
          return;
        }
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return;
          this.leadTransferee = NONE;
        }
        if (transferee === this.id) return;
        // The transfer must finish within an election timeout (tickHeartbeat abandons it).
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.log.lastIndex()) this.send(this.msg(MessageType.MsgTimeoutNow, transferee));
        else this.sendAppend(transferee);
        return;
      }
      default:
        return;
    }
  };

  private leaderPropose(m: Message): void {
    assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`);
    if (!this.trk.progress.has(this.id)) return this.dropProposal(m, 'this member was removed from the cluster');
    if (this.leadTransferee !== NONE) return this.dropProposal(m, 'leadership transfer in progress');
    for (const e of m.entries) {
      if (e.type !== EntryType.ConfChange) continue;
      if (this.pendingConfIndex > this.log.applied) {
        return this.dropProposal(m, 'a configuration change is already pending (or this leader has not applied its first entry)');
      }
    }
    const first = this.log.lastIndex() + 1;
    this.appendEntries(m.entries);
    m.entries.forEach((e, i) => {
      if (e.type === EntryType.ConfChange) this.pendingConfIndex = first + i;
    });
    this.bcastAppend();
  }

  /** Append entries of this term at the end of the leader's log. The leader's own progress
   * advances only when the entries are durable (see onPersisted). */
  private appendEntries(entries: readonly Entry[]): void {
    const last = this.log.lastIndex();
    const ents = entries.map((e, i) => ({ term: this.term, index: last + 1 + i, type: e.type, data: e.data }));
    this.log.append(ents);
  }

  private leaderReadIndex(m: Message): void {
    const local = m.from === NONE || m.from === this.id;
    if (this.trk.voters.size === 1 && this.trk.voters.has(this.id)) {
      this.answerRead(m, this.log.committed);
      return;
    }
    // A new leader does not know the commit index until it commits an entry of its own term;
    // reads wait for that.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndex.push(m);
      return;
    }
    if (this.readOnlyOption === 'lease-based') {
      this.answerRead(m, this.log.committed);
      return;
    }
    this.readOnly.add({ ctx: m.context ?? new Uint8Array(0), from: local ? this.id : m.from });
  }

  private answerRead(m: Message, index: number): void {
    const ctx = m.context ?? new Uint8Array(0);
    if (m.from === NONE || m.from === this.id) this.readStates.push({ index, requestCtx: ctx });
    else this.send(this.msg(MessageType.MsgReadIndexResp, m.from, { index, context: ctx }));
  }

  private releaseReads(done: { index: number; req: { ctx: Uint8Array; from: NodeId } }[]): void {
    for (const { index, req } of done) {
      if (req.from === this.id) this.readStates.push({ index, requestCtx: req.ctx });
      else this.send(this.msg(MessageType.MsgReadIndexResp, req.from, { index, context: req.ctx }));
    }
  }

  /** Start one heartbeat round for every ReadIndex request received since the last one. */
  flushReadIndex(): void {
    if (this.state !== StateType.Leader || !this.readOnly.hasPending()) return;
    const ctx = this.readOnly.startRound(this.log.committed, this.id);
    if (ctx) this.bcastHeartbeat(ctx);
  }

  hasPendingReadRound(): boolean {
    return this.state === StateType.Leader && this.readOnly.hasPending();
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private maybeCommit(): boolean {
    if (!this.log.maybeCommit(this.trk.committed(), this.term)) return false;
    if (this.pendingReadIndex.length > 0 && this.committedEntryInCurrentTerm()) {
      const waiting = this.pendingReadIndex;
      this.pendingReadIndex = [];
      for (const m of waiting) this.leaderReadIndex(m);
    }
    return true;
  }

  private stepCandidate = (m: Message): void => {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
    switch (m.type) {
      case MessageType.MsgProp:
        this.dropProposal(m, 'no leader');
        return;
      case MessageType.MsgReadIndex:
      case MessageType.MsgTransferLeader:
        return;
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        const result = this.poll(m.from, !m.reject);
        if (result === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign('election', false);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.Lost) {
          // A pre-candidate that lost keeps its term; a candidate keeps its raised term.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  };

  private stepFollower = (m: Message): void => {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === NONE) return this.dropProposal(m, 'no leader');
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgApp:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === NONE) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.MsgTimeoutNow:
        // The leader hands over: campaign at once, skipping pre-vote and others' leases.
        this.logger.info('raft: received MsgTimeoutNow, campaigning for leadership transfer', { id: String(this.id), term: this.term });
        this.hup(true);
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === NONE) return;
        this.send({ ...m, to: this.lead, from: m.from === NONE ? this.id : m.from });
        return;
      case MessageType.MsgReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) });
        return;
      default:
        return;
    }
  };

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index is known to match the leader's log.
      this.send(this.msg(MessageType.MsgAppResp, m.from, { index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(this.msg(MessageType.MsgAppResp, m.from, { index: lastNew }));
      return;
    }
    // Reject, with a hint that lets the leader skip all entries of a conflicting term at once:
    // the last index <= m.index whose term is <= m.logTerm.
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(this.msg(MessageType.MsgAppResp, m.from, { index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm }));
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, committed), so this never passes our matching prefix.
    this.log.commitTo(m.commit);
    this.send(this.msg(MessageType.MsgHeartbeatResp, m.from, m.context ? { context: m.context } : {}));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    assert(s !== undefined, 'MsgSnap without snapshot');
    if (this.restore(s)) {
      this.logger.info('raft: restored snapshot', { id: String(this.id), index: s.metadata.index, term: s.metadata.term });
      this.send(this.msg(MessageType.MsgAppResp, m.from, { index: this.log.lastIndex() }));
    } else {
      this.send(this.msg(MessageType.MsgAppResp, m.from, { index: this.log.committed }));
    }
  }

  /** Install a snapshot from the leader; false when it brings nothing new. */
  private restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.state !== StateType.Follower) {
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // The log already has this entry: commit up to it instead of discarding the log.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.trk.setConfState(confState, this.log.lastIndex() + 1);
    return true;
  }

  // --- inputs from the application ---------------------------------------------------------------

  /** The application persisted everything up to (index, term) of the last Ready. */
  onPersisted(index: number, term: number): void {
    if (this.state !== StateType.Leader) return;
    if (this.log.term(index) !== term) return;
    const self = this.trk.progress.get(this.id);
    if (self && self.maybeUpdate(Math.min(index, this.log.lastStableIndex())) && this.maybeCommit()) this.bcastAppend();
  }

  applyConfChange(cc: ConfChange): ConfState {
    const next = this.log.lastIndex() + 1;
    switch (cc.type) {
      case ConfChangeType.AddNode:
        this.trk.addVoter(cc.nodeId, next);
        break;
      case ConfChangeType.AddLearnerNode:
        // Demoting a voter needs joint consensus; with single-step changes it is refused.
        if (!this.trk.voters.has(cc.nodeId)) this.trk.addLearner(cc.nodeId, next);
        break;
      case ConfChangeType.RemoveNode:
        this.trk.remove(cc.nodeId);
        break;
    }
    if (this.state === StateType.Leader) {
      if (!this.trk.voters.has(this.id)) {
        // A leader removed from the voters steps down; the others elect a new one.
        this.becomeFollower(this.term, NONE);
      } else {
        if (this.leadTransferee !== NONE && !this.trk.voters.has(this.leadTransferee)) this.leadTransferee = NONE;
        const self = this.trk.progress.get(this.id);
        if (self) self.recentActive = true;
        // The quorum changed: more entries (and reads) may be confirmed now.
        if (this.maybeCommit()) this.bcastAppend();
        this.releaseReads(this.readOnly.recheck((acks) => this.trk.hasQuorum(acks)));
      }
    }
    return this.trk.confState();
  }
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
