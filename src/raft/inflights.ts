import { assert } from '../util/assert.js';

/**
 * The window of MsgApp messages sent to one follower and not yet acknowledged, bounded both in
 * count and in bytes. Each slot records the last index a message carried and its size; an
 * acknowledgement up to index i frees every slot whose index is <= i.
 *
 * Example (size 3): add(5,100), add(9,100), add(12,100) → full; freeLE(9) → one slot left.
 */
export class Inflights {
  // A FIFO kept as two parallel arrays with a moving head; indexes in `indexes` only increase.
  private indexes: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    /** 0 means no byte limit. */
    private readonly maxBytes: number,
  ) {
    assert(maxMessages > 0, 'inflights: maxMessages must be positive');
  }

  get count(): number {
    return this.indexes.length - this.head;
  }

  add(index: number, bytes: number): void {
    assert(!this.full(), 'inflights: add into a full window');
    const last = this.indexes[this.indexes.length - 1];
    assert(this.count === 0 || last === undefined || index > last, `inflights: index ${index} not increasing`);
    this.indexes.push(index);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Free every inflight message whose last index is <= index. */
  freeLE(index: number): void {
    while (this.head < this.indexes.length && (this.indexes[this.head] as number) <= index) {
      this.bytes -= this.sizes[this.head] as number;
      this.head++;
    }
    if (this.head === this.indexes.length) {
      this.reset();
    } else if (this.head > 1024 && this.head * 2 > this.indexes.length) {
      // Compact the arrays occasionally so memory stays bounded by the window.
      this.indexes = this.indexes.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Free the oldest slot (used when acknowledgements may have been lost). */
  freeFirstOne(): void {
    const first = this.indexes[this.head];
    if (first !== undefined) this.freeLE(first);
  }

  full(): boolean {
    return this.count >= this.maxMessages || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  reset(): void {
    this.indexes = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }
}
