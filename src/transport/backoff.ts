/**
 * Reconnect delays: exponential from `minMs` to `maxMs`, each drawn uniformly from the upper half
 * of its step so that members that lost a peer at the same moment do not redial in lockstep.
 *
 * Example (min 50, max 1000): attempts wait in [25,50), [50,100), [100,200), [200,400),
 * [400,800), then [500,1000) forever, until reset() after a successful handshake.
 */
import { assert } from '../util/assert.js';

export class Backoff {
  /** Invariant: minMs <= currentMs <= maxMs. */
  private currentMs: number;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number,
  ) {
    assert(minMs > 0 && maxMs >= minMs, `transport: bad backoff bounds ${minMs}..${maxMs}`);
    this.currentMs = minMs;
  }

  /** The delay before the next attempt; doubles the step for the one after. */
  next(): number {
    const step = this.currentMs;
    this.currentMs = Math.min(this.maxMs, this.currentMs * 2);
    const r = this.random();
    assert(r >= 0 && r < 1, 'transport: random() must return a number in [0, 1)');
    return Math.max(1, Math.floor(step / 2 + (r * step) / 2));
  }

  reset(): void {
    this.currentMs = this.minMs;
  }
}
