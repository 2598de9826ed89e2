/**
 * A streaming RPC as its handler sees it, whichever transport carries it (a gRPC call in
 * grpc-server.ts, newline-delimited JSON over HTTP/1.1 in gateway-stream.ts): requests come
 * in through an async iterable, responses go out through write(), which waits while the
 * transport is full, and the signal aborts when the client goes away.
 */
import type { ResponseOut } from './wire.js';

export interface StreamCall {
  /**
   * The decoded requests (wire.ts shapes) in order. Ends when the client half-closes or the
   * call ends. A server-streaming RPC has exactly one.
   */
  readonly requests: AsyncIterable<unknown>;
  /** Sends one response; resolves once the transport can take more. Does nothing after the call ended. */
  write(response: ResponseOut): Promise<void>;
  /** Aborts when the client cancels, its deadline passes or its connection is lost. */
  readonly signal: AbortSignal;
}

/**
 * Resolves when the call should end with OK; rejects with the error its status comes from.
 * Once the signal aborted, the outcome is ignored (nobody is listening).
 */
export type StreamHandler = (call: StreamCall) => Promise<void>;

/** Where requests come from: paused while the handler is behind. */
export interface PausableSource {
  pause(): unknown;
  resume(): unknown;
}

/**
 * The requests of one call, buffered between the transport (push, end) and the handler (async
 * iteration). At most `highWater` are held: beyond that the source is paused until the handler
 * has taken half of them, so a client sending faster than it is answered is slowed down, not
 * buffered without bound.
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private paused = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly source: PausableSource | undefined,
    private readonly highWater = 16,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    if (this.items.length >= this.highWater && this.source !== undefined && !this.paused) {
      this.paused = true;
      this.source.pause();
    }
    this.notify();
  }

  /** No more requests (half-close, call end); what is buffered is still delivered. */
  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift() as T;
        this.resumeIfDrained();
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private resumeIfDrained(): void {
    if (!this.paused || this.items.length > this.highWater / 2) return;
    this.paused = false;
    this.source?.resume();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
