import type { Message, NodeId } from '../../../src/raft/index.js';
import type { Prng } from '../../../src/util/prng.js';
import type { NetParams } from './sim-params.js';

/** A message on the wire, with the sender's incarnation (for snapshot status reports). */
export interface Envelope {
  readonly msg: Message;
  readonly deliverAt: number;
  /** Send order; breaks ties between messages due at the same step. */
  readonly seq: number;
  readonly fromIncarnation: number;
  /** Lost on the way: it is "delivered" as a drop, so the sender still gets its snapshot
   * status report (etcd's transport always reports how a snapshot send ended). */
  readonly lost: boolean;
}

/**
 * The simulated network. Every message gets a delivery step (1..baseDelaySteps ahead, plus an
 * occasional extra delay that reorders it); it may be dropped or duplicated when sent. Links
 * can be cut: symmetric partitions and one-way cuts are checked at delivery time, so messages
 * already in flight are lost when a cut happens, as on a real network.
 *
 * Example: send(m) at step 10 with baseDelaySteps 2 is due at step 11 or 12; if 1 -> 2 is cut
 * when it becomes due, isCut(1n, 2n) is true and the simulation drops it.
 */
export class SimNetwork {
  private queue: Envelope[] = [];
  private seq = 0;
  /** Directed cut links, keyed by linkKey(from, to). */
  private readonly cuts = new Set<number>();
  /** Calm mode (the liveness check): no loss, no duplicates, no reordering. */
  calm = false;
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly prng: Prng,
    private readonly params: NetParams,
  ) {}

  /** Queue a message; returns how many copies went on the wire (0 = lost at once). */
  send(msg: Message, now: number, fromIncarnation: number): number {
    this.sent++;
    if (!this.calm && this.prng.chance(this.params.dropRate)) {
      this.dropped++;
      this.enqueue(msg, now, fromIncarnation, true);
      return 0;
    }
    this.enqueue(msg, now, fromIncarnation, false);
    if (!this.calm && this.prng.chance(this.params.dupRate)) {
      this.duplicated++;
      this.enqueue(msg, now, fromIncarnation, false);
      return 2;
    }
    return 1;
  }

  private enqueue(msg: Message, now: number, fromIncarnation: number, lost: boolean): void {
    let delay = this.calm ? 1 : this.prng.range(1, this.params.baseDelaySteps);
    if (!this.calm && this.prng.chance(this.params.reorderRate)) delay += this.prng.range(1, this.params.reorderDelaySteps);
    this.queue.push({ msg, deliverAt: now + delay, seq: this.seq++, fromIncarnation, lost });
  }

  /** Remove and return the messages due at `now`, in (deliverAt, send order). */
  takeDue(now: number): Envelope[] {
    const due: Envelope[] = [];
    const rest: Envelope[] = [];
    for (const env of this.queue) (env.deliverAt <= now ? due : rest).push(env);
    this.queue = rest;
    due.sort((x, y) => x.deliverAt - y.deliverAt || x.seq - y.seq);
    return due;
  }

  get inFlight(): number {
    return this.queue.length;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.size > 0 && this.cuts.has(linkKey(from, to));
  }

  /** Cut every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cuts.add(linkKey(x, y));
        this.cuts.add(linkKey(y, x));
      }
    }
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(linkKey(from, to));
  }

  heal(): void {
    this.cuts.clear();
  }

  get cutLinks(): number {
    return this.cuts.size;
  }
}

function linkKey(from: NodeId, to: NodeId): number {
  // Simulation ids stay far below 2^16.
  return Number(from) * 65536 + Number(to);
}
