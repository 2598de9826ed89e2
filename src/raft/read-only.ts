import type { NodeId } from './types.js';

/** One ReadIndex request: its context and who asked (this node, or a follower). */
export interface ReadRequest {
  readonly ctx: Uint8Array;
  readonly from: NodeId;
}

/**
 * One heartbeat round confirming leadership for a batch of read requests. The read index is the
 * leader's commit index when the round began; once a quorum answers the round's heartbeat, every
 * request in it may be served at that index.
 */
interface Round {
  readonly key: string;
  readonly ctx: Uint8Array;
  readonly index: number;
  readonly requests: ReadRequest[];
  readonly acks: Set<NodeId>;
}

const ROUND_TAG = 0x52; // 'R': marks a heartbeat context as a ReadIndex round.

/**
 * ReadIndex in safe mode, batched: requests that arrive between two Ready cycles wait in
 * `pending`; `startRound` puts them all into one round with one heartbeat broadcast. Rounds
 * complete in order: confirming a round also confirms every earlier one, because a quorum that
 * acknowledged this leader later acknowledged it at the earlier moment too.
 */
export class ReadOnly {
  private pending: ReadRequest[] = [];
  private rounds: Round[] = [];
  private nextRound = 1;

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  add(req: ReadRequest): void {
    this.pending.push(req);
  }

  /** Open a round at `index` for everything pending; returns its heartbeat context. */
  startRound(index: number, self: NodeId): Uint8Array | undefined {
    if (this.pending.length === 0) return undefined;
    const ctx = new Uint8Array(9);
    ctx[0] = ROUND_TAG;
    new DataView(ctx.buffer).setBigUint64(1, BigInt(this.nextRound++));
    const round: Round = { key: keyOf(ctx), ctx, index, requests: this.pending, acks: new Set([self]) };
    this.pending = [];
    this.rounds.push(round);
    return ctx;
  }

  /** The newest round's context, so that ordinary heartbeats also help it complete. */
  lastRoundCtx(): Uint8Array | undefined {
    return this.rounds[this.rounds.length - 1]?.ctx;
  }

  /**
   * Record a heartbeat acknowledgement. If `hasQuorum` holds for the acknowledged round, that
   * round and all earlier ones are complete; their requests are returned with their indexes.
   */
  ack(ctx: Uint8Array, from: NodeId, hasQuorum: (acks: ReadonlySet<NodeId>) => boolean): { index: number; req: ReadRequest }[] {
    const key = keyOf(ctx);
    const at = this.rounds.findIndex((r) => r.key === key);
    if (at < 0) return [];
    const round = this.rounds[at] as Round;
    round.acks.add(from);
    return hasQuorum(round.acks) ? this.releaseThrough(at) : [];
  }

  /** Re-check every round against a (changed) quorum; returns completed requests. */
  recheck(hasQuorum: (acks: ReadonlySet<NodeId>) => boolean): { index: number; req: ReadRequest }[] {
    for (let i = this.rounds.length - 1; i >= 0; i--) {
      if (hasQuorum((this.rounds[i] as Round).acks)) return this.releaseThrough(i);
    }
    return [];
  }

  /** Complete rounds 0..at (a later confirmation confirms every earlier round too). */
  private releaseThrough(at: number): { index: number; req: ReadRequest }[] {
    const out: { index: number; req: ReadRequest }[] = [];
    for (const r of this.rounds.splice(0, at + 1)) for (const req of r.requests) out.push({ index: r.index, req });
    return out;
  }
}

export function isRoundContext(ctx: Uint8Array | undefined): ctx is Uint8Array {
  return ctx !== undefined && ctx.byteLength === 9 && ctx[0] === ROUND_TAG;
}

function keyOf(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}
