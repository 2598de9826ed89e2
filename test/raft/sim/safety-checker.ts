import {
  EntryType,
  MessageType,
  type Entry,
  type HardState,
  type MemoryStorage,
  type Message,
  type NodeId,
  type Ready,
  type ReadState,
} from '../../../src/raft/index.js';
import type { LogView } from './log-view.js';
import { decodeProposal, decodeReadCtx, ProposalKind } from './proposal.js';
import { Violation } from './sim-failure.js';
import { entryDigest } from './state-machine.js';

interface CommittedEntry {
  readonly term: number;
  readonly digest: number;
  /** The lowest term of a node that reported this entry committed: the entry was committed in
   * this term or an earlier one (a node only learns of a commit from a leader of its term or an
   * older one). Leaders of later terms must hold it. */
  commitTerm: number;
}

interface LoggedEntry {
  readonly digest: number;
  /** Term of the entry before it in the log that first held it (-1: not known). */
  prevTerm: number;
}

interface ReadRecord {
  /** The highest commit index any node knew when the request was made. */
  readonly bound: number;
  readonly node: NodeId;
  readonly step: number;
}

/**
 * The global safety state of one run, built from what every node reveals (status after each
 * input, each Ready, each apply, each message sent) and checked against each new observation.
 * Each check throws a Violation naming the invariant; nothing here depends on the simulated
 * time, so the checks hold at every step.
 *
 * Invariants (numbers as in the simulation's brief):
 *  1. election safety: at most one leader per term (from status and from leader-only messages);
 *     a voter grants its vote to one candidate per term (from MsgVoteResp on the wire);
 *  2. log matching: entries with the same (index, term) have the same data and the same
 *     predecessor term, wherever they appear;
 *  3. leader completeness: a leader of term T holds every entry committed in a term before T;
 *  4. state machine safety: all members apply the same entry at an index (and reach the same
 *     hash chain value there, which covers snapshots too);
 *  5. committed entries never change, and no log ever loses or overwrites one; when a leader
 *     advances its commit index, a majority of the voters hold that entry on disk;
 *  6. a ReadIndex answer is at least the highest commit index known anywhere when the request
 *     was made (safe reads), and never above what was committed (all reads). Lease-based reads
 *     get only the second check: they trust bounded clock drift, and simulated clocks drift.
 * (7, liveness, is the simulation's calm phase.)
 *
 * With `rules` on, the protocol's rules are checked directly as well: a vote request or grant
 * leaves only once the vote is durable, and a leader commits by counting replicas only an entry
 * of its own term (the node also checks that leaderMessages hold only replication traffic).
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly voteOf = new Map<string, NodeId>();
  private readonly logged = new Map<number, LoggedEntry>();
  private readonly committed: (CommittedEntry | undefined)[] = [];
  private readonly appliedDigest: (number | undefined)[] = [];
  private readonly chainAt: (number | undefined)[] = [];
  private readonly reads = new Map<number, ReadRecord>();
  /** Marker proposal id -> the index at which it was committed. */
  private readonly markerIndex = new Map<number, number>();
  /** The highest index known committed by any node (from status and Ready). */
  maxCommitSeen = 0;
  /** The highest index with a recorded committed entry. */
  maxCommitted = 0;
  readsAnswered = 0;
  leadersElected = 0;

  /**
   * @param rules also check the protocol's rules directly (durability promises on the wire, the
   *   commitment rule), which catches their violations at once, before any outcome goes wrong.
   *   Without them only outcomes are checked; the self-tests use that to show that the outcome
   *   checks alone can fail.
   */
  constructor(readonly rules = true) {
    // Every initial member starts from the bootstrap snapshot at index 1 with an empty state
    // machine; a brand-new member starts at 0.
    this.chainAt[0] = 0;
    this.chainAt[1] = 0;
  }

  // ---- 1. election safety -------------------------------------------------------------------

  observeLeader(id: NodeId, term: number, source: string): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev === undefined) {
      this.leaderOfTerm.set(term, id);
      this.leadersElected++;
    } else if (prev !== id) {
      throw new Violation(`election safety: two leaders in term ${term}: ${prev} and ${id} (seen via ${source})`);
    }
  }

  /**
   * Every message put on the wire, with its sender's durable hard state at that moment. A vote
   * request or grant vouches for a durable vote: the sender's disk must already say so (or
   * already be in a later term, where it can never vote in this one again).
   */
  observeSent(m: Message, durable: HardState): void {
    if (this.rules && ((m.type === MessageType.MsgVoteResp && !m.reject) || m.type === MessageType.MsgVote)) {
      const candidate = m.type === MessageType.MsgVote ? m.from : m.to;
      if (durable.term < m.term || (durable.term === m.term && durable.vote !== candidate)) {
        throw new Violation(
          `node ${m.from} sends ${m.type} for ${candidate} in term ${m.term} while its disk holds term ${durable.term} vote ${durable.vote}`,
        );
      }
    }
    switch (m.type) {
      case MessageType.MsgApp:
      case MessageType.MsgHeartbeat:
      case MessageType.MsgSnap:
      case MessageType.MsgTimeoutNow:
        this.observeLeader(m.from, m.term, m.type);
        break;
      case MessageType.MsgVote:
        // Asking for votes in a term means having voted for oneself in it.
        this.observeVote(m.from, m.term, m.from);
        break;
      case MessageType.MsgVoteResp:
        if (!m.reject) this.observeVote(m.from, m.term, m.to);
        break;
      default:
        break;
    }
  }

  /** `voter` told the world it votes for `candidate` in `term` (grants are promises: a voter
   * sends them only once its vote is durable, so no crash lets it vote twice). */
  private observeVote(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}/${term}`;
    const prev = this.voteOf.get(key);
    if (prev === undefined) this.voteOf.set(key, candidate);
    else if (prev !== candidate) {
      throw new Violation(`election safety: node ${voter} voted for ${prev} in term ${term}, and then for ${candidate}`);
    }
  }

  // ---- 2. log matching, 5. committed entries never change ---------------------------------

  /**
   * A Ready about to be persisted on `node`: its entries must agree with every other log's
   * entries at the same (index, term), and persisting it must not drop an entry the node
   * holds that is committed. (A stale node may hold, and even receive from a stale leader, a
   * different entry at a committed index; that is legal until it replaces a committed one.)
   */
  checkAppend(node: NodeId, storage: MemoryStorage, view: LogView, rd: Pick<Ready, 'snapshot' | 'entries'>): void {
    const entries = rd.entries;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k] as Entry;
      if (k > 0 && e.index !== (entries[k - 1] as Entry).index + 1) {
        throw new Violation(`node ${node}: Ready entries are not contiguous at ${e.index}`);
      }
      if (e.index < view.firstIndex()) continue;
      const digest = entryDigest(e);
      const prevTerm = view.term(e.index - 1) ?? -1;
      const key = logKey(e.index, e.term);
      const seen = this.logged.get(key);
      if (seen === undefined) {
        this.logged.set(key, { digest, prevTerm });
      } else {
        if (seen.digest !== digest) {
          throw new Violation(`log matching: node ${node} holds a different entry at index ${e.index} term ${e.term}`);
        }
        if (seen.prevTerm === -1) seen.prevTerm = prevTerm;
        else if (prevTerm !== -1 && seen.prevTerm !== prevTerm) {
          throw new Violation(
            `log matching: node ${node} has entry ${e.index}@${e.term} after term ${prevTerm}, elsewhere after term ${seen.prevTerm}`,
          );
        }
      }
    }
    // Stored entries from here on are replaced (by the snapshot or the new entries).
    const from = rd.snapshot !== undefined ? rd.snapshot.metadata.index + 1 : entries[0]?.index;
    if (from === undefined) return;
    const storedFirst = storage.firstIndex();
    const hi = Math.min(storage.lastIndex(), this.maxCommitted);
    for (let i = Math.max(from, storedFirst); i <= hi; i++) {
      const c = this.committed[i];
      if (c === undefined || storage.term(i) !== c.term) continue;
      const after = view.entry(i);
      if (after === undefined) {
        throw new Violation(`committed entry lost: node ${node} drops its copy of committed entry ${i}@${c.term} (log now ends at ${view.lastIndex()})`);
      }
      if (after.term !== c.term || entryDigest(after) !== c.digest) {
        throw new Violation(`committed entry overwritten: node ${node} replaces committed entry ${i}@${c.term} with ${i}@${after.term}`);
      }
    }
  }

  /** `node`, at term `reporterTerm`, holds entries up to `commit` committed. */
  recordCommit(node: NodeId, view: LogView, from: number, commit: number, reporterTerm: number): void {
    if (commit > view.lastIndex()) {
      throw new Violation(`node ${node}: commit index ${commit} is beyond its last index ${view.lastIndex()}`);
    }
    if (commit > this.maxCommitSeen) this.maxCommitSeen = commit;
    const snapIndex = view.firstIndex() - 1;
    for (let i = Math.max(from, snapIndex); i <= commit; i++) {
      if (i === snapIndex) {
        const c = this.committed[i];
        const t = view.term(i);
        if (c !== undefined && t !== undefined && c.term !== t) {
          throw new Violation(`committed entry changed: node ${node}'s snapshot at ${i} has term ${t}, committed term ${c.term}`);
        }
        continue;
      }
      const e = view.entry(i);
      if (e === undefined) throw new Violation(`node ${node}: committed index ${i} is missing from its log`);
      this.recordCommittedEntry(node, e, reporterTerm);
    }
  }

  private recordCommittedEntry(node: NodeId, e: Entry, reporterTerm: number): void {
    const digest = entryDigest(e);
    const c = this.committed[e.index];
    if (c === undefined) {
      this.committed[e.index] = { term: e.term, digest, commitTerm: reporterTerm };
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
      const p = e.data.byteLength > 0 ? decodeProposal(e.data) : undefined;
      if (p?.kind === ProposalKind.Marker && e.type === EntryType.Normal) this.markerIndex.set(p.id, e.index);
      return;
    }
    if (c.term !== e.term || c.digest !== digest) {
      throw new Violation(
        `committed entry changed: node ${node} reports ${e.index}@${e.term} committed, but ${e.index}@${c.term} was committed before`,
      );
    }
    if (reporterTerm < c.commitTerm) c.commitTerm = reporterTerm;
  }

  /**
   * `node`, leader of `term`, just advanced its commit index to `commit`; `view` is its log as
   * handed out so far. Raft commits by counting replicas only an entry of the leader's own term
   * (§5.4.2, Figure 8), and only once a majority of the voters hold it durably: every ack
   * (a follower's MsgAppResp, the leader's own advance()) follows a write to that member's disk,
   * and the disk is the MemoryStorage, so a quorum's storage must hold the entry right now.
   */
  checkLeaderCommit(
    node: NodeId,
    term: number,
    commit: number,
    view: LogView,
    voters: readonly NodeId[],
    storageOf: (id: NodeId) => MemoryStorage | undefined,
  ): void {
    const t = view.term(commit);
    if (t === undefined) {
      throw new Violation(`leader ${node} (term ${term}) commits index ${commit}, beyond every entry it handed out for persistence`);
    }
    if (t !== term && this.rules) {
      throw new Violation(
        `commitment rule (Raft 5.4.2): leader ${node} of term ${term} advanced its commit index to ${commit}, an entry of term ${t}, by counting replicas`,
      );
    }
    let durable = 0;
    const holders: NodeId[] = [];
    for (const v of voters) {
      const s = storageOf(v);
      if (s === undefined) continue;
      if (s.firstIndex() - 1 >= commit || (commit >= s.firstIndex() && commit <= s.lastIndex() && s.term(commit) === t)) {
        durable++;
        holders.push(v);
      }
    }
    if (durable < Math.floor(voters.length / 2) + 1) {
      throw new Violation(
        `leader ${node} committed ${commit}@${t}, but only {${holders.join(',')}} of voters {${voters.join(',')}} hold it on disk`,
      );
    }
  }

  /**
   * A full pass over one member's durable log (run at each liveness check): every entry must be
   * one that was seen handed out, after the same predecessor term, and must match any committed
   * entry at its index up to the member's durable commit index.
   */
  scanLog(node: NodeId, storage: MemoryStorage): void {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last < first) return;
    const commit = storage.initialState().hardState.commit;
    const ents = storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
    let prevTerm = storage.term(first - 1);
    for (const e of ents) {
      const seen = this.logged.get(logKey(e.index, e.term));
      const digest = entryDigest(e);
      if (seen === undefined || seen.digest !== digest) {
        throw new Violation(`log matching: node ${node}'s disk holds ${e.index}@${e.term}, which no Ready handed out`);
      }
      if (seen.prevTerm !== -1 && seen.prevTerm !== prevTerm) {
        throw new Violation(`log matching: node ${node}'s disk holds ${e.index}@${e.term} after term ${prevTerm}, elsewhere after ${seen.prevTerm}`);
      }
      const c = this.committed[e.index];
      if (e.index <= commit && c !== undefined && (c.term !== e.term || c.digest !== digest)) {
        throw new Violation(`committed entry changed: node ${node}'s disk holds ${e.index}@${e.term} below its commit index, but ${e.index}@${c.term} was committed`);
      }
      prevTerm = e.term;
    }
  }

  // ---- 3. leader completeness ---------------------------------------------------------------

  /** `node` is leader of `term` and `view` is its log. */
  checkLeaderCompleteness(node: NodeId, term: number, view: LogView): void {
    const first = view.firstIndex();
    const last = view.lastIndex();
    // Below first-1 the log is a snapshot of applied (so committed) entries.
    for (let i = Math.max(1, first - 1); i <= this.maxCommitted; i++) {
      const c = this.committed[i];
      if (c === undefined || c.commitTerm >= term) continue;
      if (i > last) {
        throw new Violation(
          `leader completeness: node ${node} leads term ${term} with last index ${last}, missing entry ${i}@${c.term} committed in term <= ${c.commitTerm}`,
        );
      }
      const t = view.term(i);
      const e = i >= first ? view.entry(i) : undefined;
      if (t !== c.term || (e !== undefined && entryDigest(e) !== c.digest)) {
        throw new Violation(
          `leader completeness: node ${node} leads term ${term} with ${i}@${t ?? '?'}, but ${i}@${c.term} was committed in term <= ${c.commitTerm}`,
        );
      }
    }
  }

  // ---- 4. state machine safety --------------------------------------------------------------

  /** `node` applied `e`, reaching `chain`. */
  checkApply(node: NodeId, e: Entry, digest: number, chain: number): void {
    const c = this.committed[e.index];
    if (c === undefined) {
      // Applying needs a commit index at least e.index, which the Ready reported: a gap here
      // means the node applies what it never reported as committed.
      throw new Violation(`node ${node} applies entry ${e.index}@${e.term}, which no node reported committed`);
    }
    if (c.term !== e.term || c.digest !== digest) {
      throw new Violation(`state machine safety: node ${node} applies ${e.index}@${e.term}, but ${e.index}@${c.term} was committed`);
    }
    const prev = this.appliedDigest[e.index];
    if (prev === undefined) this.appliedDigest[e.index] = digest;
    else if (prev !== digest) throw new Violation(`state machine safety: node ${node} applies a different entry at ${e.index}`);
    this.checkChain(node, e.index, chain);
  }

  checkChain(node: NodeId, index: number, chain: number): void {
    const prev = this.chainAt[index];
    if (prev === undefined) this.chainAt[index] = chain;
    else if (prev !== chain) {
      throw new Violation(`state machine safety: node ${node}'s state at ${index} differs from another member's`);
    }
  }

  // ---- 6. reads -----------------------------------------------------------------------------

  onReadRequest(id: number, node: NodeId, step: number): void {
    this.reads.set(id, { bound: this.maxCommitSeen, node, step });
  }

  onReadState(node: NodeId, rs: ReadState, checkBound: boolean): void {
    const id = decodeReadCtx(rs.requestCtx);
    const req = id === undefined ? undefined : this.reads.get(id);
    if (req === undefined) throw new Violation(`node ${node} answers a read with an unknown context`);
    this.readsAnswered++;
    if (rs.index > this.maxCommitSeen) {
      throw new Violation(`read ${id} answered at ${rs.index}, above every known commit index (${this.maxCommitSeen})`);
    }
    if (checkBound && rs.index < req.bound) {
      throw new Violation(
        `stale read: read ${id} (asked on node ${req.node} at step ${req.step}) answered at index ${rs.index}, but ${req.bound} was committed when it was asked`,
      );
    }
  }

  // ---- liveness helpers ---------------------------------------------------------------------

  committedIndexOfMarker(id: number): number | undefined {
    return this.markerIndex.get(id);
  }

  observeCommitIndex(commit: number): void {
    if (commit > this.maxCommitSeen) this.maxCommitSeen = commit;
  }
}

function logKey(index: number, term: number): number {
  if (term >= 2 ** 21) throw new Violation(`term ${term} is too large for the simulation's log keys`);
  return index * 2 ** 21 + term;
}
