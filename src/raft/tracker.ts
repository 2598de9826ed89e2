import { assert } from '../util/assert.js';
import { Progress } from './progress.js';
import type { ConfState, NodeId } from './types.js';

export enum VoteResult {
  Pending = 'pending',
  Won = 'won',
  Lost = 'lost',
}

/** The size of a majority of n voters. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index that a majority of voters have in their logs.
 * Example: matches [10, 8, 5] → 8 (two of three have index 8); [10, 8, 5, 3] → 5.
 */
export function committedIndex(matches: number[]): number {
  if (matches.length === 0) return 0;
  const sorted = matches.slice().sort((a, b) => b - a);
  return sorted[quorumSize(sorted.length) - 1] as number;
}

/** The outcome of an election given the voters' answers so far. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const q = quorumSize(voters.size);
  if (granted >= q) return VoteResult.Won;
  if (voters.size - rejected < q) return VoteResult.Lost;
  return VoteResult.Pending;
}

/**
 * The membership as this node sees it, and on a leader the progress of every member.
 * Voters and learners are disjoint; `progress` has an entry for each of them.
 */
export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();

  constructor(
    private readonly maxInflightMsgs: number,
    private readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return { voters: [...this.voters].sort(cmpId), learners: [...this.learners].sort(cmpId) };
  }

  /** Replace the configuration (restoring from a snapshot or storage). */
  setConfState(cs: ConfState, nextIndex: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    for (const id of cs.voters) this.addVoter(id, nextIndex);
    for (const id of cs.learners) this.addLearner(id, nextIndex);
  }

  addVoter(id: NodeId, nextIndex: number): void {
    assert(id !== 0n, 'tracker: node id 0');
    this.learners.delete(id);
    this.voters.add(id);
    const pr = this.progress.get(id);
    if (pr) pr.isLearner = false;
    else this.progress.set(id, this.newProgress(nextIndex, false));
  }

  addLearner(id: NodeId, nextIndex: number): void {
    assert(id !== 0n, 'tracker: node id 0');
    assert(!this.voters.has(id), 'tracker: a voter cannot become a learner directly');
    this.learners.add(id);
    if (!this.progress.has(id)) this.progress.set(id, this.newProgress(nextIndex, true));
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
  }

  isMember(id: NodeId): boolean {
    return this.voters.has(id) || this.learners.has(id);
  }

  /** The largest index replicated on a quorum of voters. */
  committed(): number {
    const matches: number[] = [];
    for (const id of this.voters) matches.push((this.progress.get(id) as Progress).match);
    return committedIndex(matches);
  }

  /** Whether a quorum of voters was heard from recently. */
  quorumActive(): boolean {
    let active = 0;
    for (const id of this.voters) if ((this.progress.get(id) as Progress).recentActive) active++;
    return active >= quorumSize(this.voters.size);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }

  /** Whether a quorum of voters is in `acks`. */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voters) if (acks.has(id)) n++;
    return n >= quorumSize(this.voters.size);
  }

  private newProgress(nextIndex: number, isLearner: boolean): Progress {
    const pr = new Progress(Math.max(nextIndex, 1), isLearner, this.maxInflightMsgs, this.maxInflightBytes);
    // A new member counts as active, so that CheckQuorum does not depose the leader at once.
    pr.recentActive = true;
    return pr;
  }
}

export function cmpId(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
