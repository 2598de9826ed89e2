/**
 * A bounded FIFO ring of messages waiting for one peer's stream. Bounded so that a slow or dead
 * peer costs a fixed amount of memory: when it is full the newest message is refused, and the
 * caller drops it and reports the peer unreachable (raft then probes that peer slowly).
 *
 * Example (capacity 4): push a b c → [a b c _]; shift → a; push d e → [_ b c d e] wraps to slot 0;
 * push f → false (full).
 */
import { assert } from '../util/assert.js';

export class MessageQueue<T> {
  private readonly slots: (T | undefined)[];
  /** Index of the oldest message; invariant: 0 <= head < capacity, 0 <= size <= capacity. */
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, `transport: bad queue capacity ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** False if full (the message is not queued). */
  push(item: T): boolean {
    if (this.size === this.capacity) return false;
    this.slots[(this.head + this.size) % this.capacity] = item;
    this.size++;
    return true;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.slots[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    return item;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
