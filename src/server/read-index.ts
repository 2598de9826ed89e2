/**
 * Linearizable reads (etcd's linearizableReadLoop). A read waits until a ReadIndex round has
 * confirmed this member's view of the commit index with the leader's quorum, then until this
 * member has applied up to it; then it may be served locally. Reads that arrive while a round is
 * in flight share the next round, so one heartbeat round serves any number of reads.
 */
import { EtcdError } from '../errors.js';
import { NONE, type NodeId, type RawNode } from '../raft/index.js';
import type { AppliedIndex } from './applied.js';
import type { TimerHandle, Timers } from './env.js';

/** A ReadIndex request not answered within this long is sent again (as etcd). */
const READ_INDEX_RETRY_MS = 500;

/**
 * How a linearizable read is confirmed. Production waits for the ReadIndex round; the fault
 * harness's `read-without-readindex` control serves at once, and must be caught.
 */
export type ReadPolicy = (confirm: () => Promise<void>) => Promise<void>;

export const READ_INDEX_POLICY: ReadPolicy = (confirm) => confirm();

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

interface ReadRound {
  readonly ctx: Uint8Array;
  readonly seq: bigint;
  readonly waiters: Waiter[];
  readonly retry: TimerHandle;
}

export interface ReadIndexDeps {
  readonly node: RawNode;
  readonly applied: AppliedIndex;
  readonly timers: Timers;
  readonly timeoutMs: number;
  readonly isRunning: () => boolean;
  readonly lead: () => NodeId;
  readonly kick: () => void;
  readonly policy?: ReadPolicy;
}

export class ReadIndex {
  private round: ReadRound | undefined;
  private pending: Waiter[] = [];
  private seq = 0n;
  private readonly policy: ReadPolicy;

  constructor(private readonly deps: ReadIndexDeps) {
    this.policy = deps.policy ?? READ_INDEX_POLICY;
  }

  /** Resolves when a read started now may be served from this member's store. */
  linearizableRead(): Promise<void> {
    if (!this.deps.isRunning()) return Promise.reject(new EtcdError('Stopped'));
    return this.policy(() => {
      if (this.deps.lead() === NONE) return Promise.reject(new EtcdError('NoLeader'));
      return new Promise<void>((resolve, reject) => {
        this.pending.push({ resolve, reject });
        this.startRound();
      });
    });
  }

  /** A ReadState from a Ready: the round with this context may read once `index` is applied. */
  onReadState(index: number, ctx: Uint8Array): void {
    const round = this.round;
    if (!round || ctx.byteLength !== 8 || new DataView(ctx.buffer, ctx.byteOffset, 8).getBigUint64(0) !== round.seq) return;
    this.endRound(round);
    void this.deps.applied.wait(index).then(() => {
      for (const w of round.waiters) w.resolve();
    });
    this.startRound();
  }

  /** Whether a round is waiting for the leader's answer. */
  get inFlight(): boolean {
    return this.round !== undefined;
  }

  /** Fails every waiting read (the leader changed, or the member stops): their callers retry. */
  failAll(err: unknown): void {
    const waiters = [...(this.round?.waiters ?? []), ...this.pending];
    if (this.round) this.endRound(this.round);
    this.pending = [];
    for (const w of waiters) w.reject(err);
  }

  private startRound(): void {
    if (this.round || this.pending.length === 0) return;
    const seq = ++this.seq;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, seq);
    // The request or its answer may be lost on the way to or from the leader: ask again (same
    // context) every READ_INDEX_RETRY_MS, like etcd, until answered or timed out.
    // Counted in retries, not read off the clock: a wall-clock jump must not time reads out.
    let retriesLeft = Math.ceil(this.deps.timeoutMs / READ_INDEX_RETRY_MS);
    const retry = this.deps.timers.every(READ_INDEX_RETRY_MS, () => {
      if (this.round !== round || !this.deps.isRunning()) {
        retry.cancel();
      } else if (--retriesLeft <= 0) {
        this.endRound(round);
        for (const w of round.waiters) w.reject(new EtcdError('Timeout'));
        this.startRound();
      } else if (this.deps.lead() !== NONE) {
        this.deps.node.readIndex(ctx);
        this.deps.kick();
      }
    });
    const round: ReadRound = { ctx, seq, waiters: this.pending, retry };
    this.pending = [];
    this.round = round;
    this.deps.node.readIndex(ctx);
    this.deps.kick();
  }

  private endRound(round: ReadRound): void {
    round.retry.cancel();
    if (this.round === round) this.round = undefined;
  }
}
