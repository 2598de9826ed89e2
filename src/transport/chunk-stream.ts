/**
 * The body handed to onSnapshot: an async iterable of chunks fed by the socket, with a bounded
 * buffer. Above `highWaterBytes` buffered it asks its producer to pause (the socket stops reading,
 * TCP's window closes, the sender's writes stop draining), and below it again to resume: a slow
 * consumer slows the sender down instead of growing memory.
 *
 * One consumer, one iteration. Breaking out of the loop (return()) abandons the stream: later
 * chunks are discarded and the producer resumes so the connection can run to its end.
 */
import { assert } from '../util/assert.js';

type Waiter = { resolve: (r: IteratorResult<Uint8Array>) => void; reject: (err: Error) => void };

export class ChunkStream implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  /** Invariant: bufferedBytes is the sum of chunks' lengths; a waiter exists only when chunks is empty. */
  private readonly chunks: Uint8Array[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private abandoned = false;
  private error: Error | undefined;
  private waiter: Waiter | undefined;
  private iterated = false;
  private pausedProducer = false;

  constructor(
    private readonly highWaterBytes: number,
    private readonly setProducerPaused: (paused: boolean) => void,
  ) {}

  get isAbandoned(): boolean {
    return this.abandoned;
  }

  push(chunk: Uint8Array): void {
    assert(!this.ended, 'transport: snapshot chunk after the end');
    if (this.abandoned || this.error !== undefined || chunk.length === 0) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes >= this.highWaterBytes && !this.pausedProducer) {
      this.pausedProducer = true;
      this.setProducerPaused(true);
    }
  }

  end(): void {
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }

  /** The connection broke: the consumer's next read throws `err`. */
  fail(err: Error): void {
    if (this.ended || this.abandoned) return;
    this.error ??= err;
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    assert(!this.iterated, 'transport: a snapshot body can be iterated once');
    this.iterated = true;
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    assert(this.waiter === undefined, 'transport: concurrent next() on a snapshot body');
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      this.bufferedBytes -= chunk.length;
      if (this.pausedProducer && this.bufferedBytes < this.highWaterBytes) {
        this.pausedProducer = false;
        this.setProducerPaused(false);
      }
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended || this.abandoned) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.abandon();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Drops what is buffered and everything after it; the producer runs freely again. */
  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    this.chunks.length = 0;
    this.bufferedBytes = 0;
    if (this.pausedProducer) {
      this.pausedProducer = false;
      this.setProducerPaused(false);
    }
  }
}
