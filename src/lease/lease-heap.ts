/**
 * An indexed min-heap of lease ids ordered by a time in milliseconds (ties broken by id, so the
 * order never depends on insertion history). Each id appears at most once: rescheduling a lease
 * moves its entry instead of pushing a second one, so the heap never holds more entries than
 * there are leases and nothing stale has to be skipped on pop.
 *
 * Example: set(7n, 300), set(3n, 100), set(5n, 100) gives peek() = {id: 3n, atMs: 100}
 * (5n and 3n tie on time, 3n < 5n); set(3n, 400) then moves 3n below 7n, so the pops are
 * 5n@100, 7n@300, 3n@400.
 */
import { assert } from '../util/index.js';

export interface HeapEntry {
  readonly id: bigint;
  readonly atMs: number;
}

export class LeaseHeap {
  // Invariant: for every i > 0, entries[parent(i)] <= entries[i]; position.get(entries[i].id) === i.
  private readonly entries: HeapEntry[] = [];
  private readonly position = new Map<bigint, number>();

  get size(): number {
    return this.entries.length;
  }

  has(id: bigint): boolean {
    return this.position.has(id);
  }

  atMsOf(id: bigint): number | undefined {
    const i = this.position.get(id);
    return i === undefined ? undefined : this.at(i).atMs;
  }

  peek(): HeapEntry | undefined {
    return this.entries[0];
  }

  /** Inserts `id`, or moves it if present. O(log n). */
  set(id: bigint, atMs: number): void {
    assert(!Number.isNaN(atMs), 'LeaseHeap.set: NaN time');
    const i = this.position.get(id);
    const e = { id, atMs };
    if (i === undefined) {
      this.entries.push(e);
      this.position.set(id, this.entries.length - 1);
      this.up(this.entries.length - 1);
    } else {
      this.entries[i] = e;
      this.down(this.up(i));
    }
  }

  delete(id: bigint): boolean {
    const i = this.position.get(id);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  pop(): HeapEntry | undefined {
    if (this.entries.length === 0) return undefined;
    const top = this.at(0);
    this.removeAt(0);
    return top;
  }

  clear(): void {
    this.entries.length = 0;
    this.position.clear();
  }

  /** Checks the heap invariant in O(n); for tests. */
  checkInvariants(): void {
    assert(this.position.size === this.entries.length, 'LeaseHeap: index size mismatch');
    for (let i = 0; i < this.entries.length; i++) {
      assert(this.position.get(this.at(i).id) === i, 'LeaseHeap: index out of date');
      if (i > 0) assert(!this.less(i, (i - 1) >> 1), 'LeaseHeap: heap order broken');
    }
  }

  private at(i: number): HeapEntry {
    const e = this.entries[i];
    assert(e !== undefined, 'LeaseHeap: index out of range');
    return e;
  }

  private less(i: number, j: number): boolean {
    const a = this.at(i);
    const b = this.at(j);
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id);
  }

  private swap(i: number, j: number): void {
    const a = this.at(i);
    const b = this.at(j);
    this.entries[i] = b;
    this.entries[j] = a;
    this.position.set(b.id, i);
    this.position.set(a.id, j);
  }

  private removeAt(i: number): void {
    const last = this.entries.length - 1;
    const removed = this.at(i);
    if (i !== last) this.swap(i, last);
    this.entries.pop();
    this.position.delete(removed.id);
    if (i < this.entries.length) this.down(this.up(i));
  }

  /** Sifts up; returns the final index. Bounded by the heap's depth. */
  private up(i: number): number {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
    return i;
  }

  private down(i: number): void {
    const n = this.entries.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.less(r, l) ? r : l;
      if (!this.less(c, i)) return;
      this.swap(c, i);
      i = c;
    }
  }
}
