import { describe, expect, it } from 'vitest';
import { LeaseHeap } from '../../src/lease/index.js';
import { Prng } from '../../src/util/index.js';

describe('LeaseHeap', () => {
  it('follows the worked example in its doc comment', () => {
    const h = new LeaseHeap();
    h.set(7n, 300);
    h.set(3n, 100);
    h.set(5n, 100);
    expect(h.peek()).toEqual({ id: 3n, atMs: 100 });
    h.set(3n, 400);
    expect([h.pop(), h.pop(), h.pop(), h.pop()]).toEqual([{ id: 5n, atMs: 100 }, { id: 7n, atMs: 300 }, { id: 3n, atMs: 400 }, undefined]);
  });

  it('matches a sorted-array model under random set/delete/pop', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Prng(seed);
      const h = new LeaseHeap();
      const model = new Map<bigint, number>();
      for (let step = 0; step < 2000; step++) {
        const id = BigInt(rng.int(64));
        const op = rng.int(10);
        if (op < 5) {
          const at = rng.int(1000);
          h.set(id, at);
          model.set(id, at);
        } else if (op < 7) {
          expect(h.delete(id), `SEED=${seed}`).toBe(model.delete(id));
        } else {
          const sorted = [...model].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
          const first = sorted[0];
          expect(h.pop(), `SEED=${seed} step=${step}`).toEqual(first === undefined ? undefined : { id: first[0], atMs: first[1] });
          if (first !== undefined) model.delete(first[0]);
        }
        expect(h.size).toBe(model.size);
        if (step % 50 === 0) h.checkInvariants();
      }
      h.checkInvariants();
    }
  });
});
