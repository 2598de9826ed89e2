/**
 * The applied index and those waiting for it (linearizable reads, lease calls). Invariant: it
 * only grows, and never passes the commit index raft handed out.
 */
import { assert } from '../util/assert.js';

export class AppliedIndex {
  private current: number;
  private readonly waiters: { index: number; resolve: () => void }[] = [];

  constructor(start: number) {
    this.current = start;
  }

  get index(): number {
    return this.current;
  }

  /** Entries up to `index` are applied (and on disk: a snapshot taken here must find them). */
  advanceTo(index: number): void {
    assert(index >= this.current, `applied index going back from ${this.current} to ${index}`);
    this.current = index;
    if (this.waiters.length === 0) return;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i] as { index: number; resolve: () => void };
      if (w.index <= index) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once everything up to `index` is applied. */
  wait(index: number): Promise<void> {
    if (index <= this.current) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ index, resolve }));
  }
}
