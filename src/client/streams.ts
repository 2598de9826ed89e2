/**
 * The two bidirectional streams of the API, as objects: a watch stream (many watchers on one
 * gRPC stream) and a lease keep-alive stream. Neither reconnects or re-creates anything on its
 * own: when the stream breaks, the iterator throws (watch) or every pending send fails (keep-
 * alive), and the caller decides what to do.
 */
import type * as grpc from '@grpc/grpc-js';
import { ClientError, Status, toClientError } from './errors.js';
import type * as pb from '../../proto/gen/index.js';
import { decodeLeaseKeepAlive, decodeWatch, encodeWatchCreate } from './codec.js';
import type { LeaseKeepAliveResponse, WatchCreateRequest, WatchResponse } from './types.js';
import { decode, encode, fromBigInt, wire } from './wire.js';

type Duplex = grpc.ClientDuplexStream<Buffer, Buffer>;

/**
 * One Watch stream. `create`, `cancel` and `requestProgress` send requests; every response
 * (created and canceled notices, events, progress notifications) arrives, in the server's order,
 * through the async iterator, which one consumer reads. The server numbers watchers in the order
 * of their create requests (unless the request names an id), so the n-th `created` response
 * answers the n-th create.
 *
 * Backpressure: while nobody reads the iterator, grpc-js stops reading from the connection, so
 * an idle consumer holds the server back instead of growing memory here.
 */
export class WatchStream implements AsyncIterable<WatchResponse> {
  private closed = false;
  private failure: ClientError | undefined;
  private iterating = false;

  constructor(
    private readonly call: Duplex,
    readonly endpoint: string,
  ) {
    // Without a listener an 'error' before the iterator starts would crash the process; keep
    // it for the iterator instead.
    call.on('error', (e: unknown) => {
      if (!this.closed) this.failure ??= toClientError(e, '/etcdserverpb.Watch/Watch', endpoint, true);
    });
  }

  /** Sends a create request. Returns false when the send buffer is full (see `drained`). */
  create(req: WatchCreateRequest): boolean {
    return this.write({ create_request: encodeWatchCreate(req) });
  }

  cancel(watchId: number): boolean {
    return this.write({ cancel_request: { watch_id: watchId } });
  }

  /** Asks for a progress notification (a response with the current revision and no events). */
  requestProgress(): boolean {
    return this.write({ progress_request: {} });
  }

  /** Resolves when the send buffer has room again. */
  drained(): Promise<void> {
    if (!this.call.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.call.once('drain', resolve));
  }

  private write(request: pb.WatchRequestIn): boolean {
    if (this.closed) throw new ClientError(Status.CANCELLED, 'watch stream is closed', true, '/etcdserverpb.Watch/Watch', this.endpoint);
    return this.call.write(encode(wire().WatchRequest, request));
  }

  /**
   * Responses until the stream ends; throws a ClientError when it breaks (not after close()).
   * Leaving the loop early closes the stream.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    if (this.iterating) throw new Error('a watch stream has one reader');
    this.iterating = true;
    const type = wire().WatchResponse;
    try {
      for await (const chunk of this.call as AsyncIterable<Buffer>) yield decodeWatch(decode(type, chunk));
    } catch (e) {
      if (this.closed) return;
      throw this.failure ?? toClientError(e, '/etcdserverpb.Watch/Watch', this.endpoint, true);
    } finally {
      // A reader that stops reading (break, return, throw) is done with the stream.
      this.close();
    }
    if (this.failure) throw this.failure;
  }

  /** Cancels the gRPC stream (and with it every watcher on it); the iterator ends quietly. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.cancel();
  }
}

interface PendingKeepAlive {
  readonly id: bigint;
  resolve: (r: LeaseKeepAliveResponse) => void;
  reject: (e: ClientError) => void;
  timer: NodeJS.Timeout | undefined;
  /** Timed out: still waits in the queue for its response, which is dropped. */
  abandoned: boolean;
}

/**
 * One LeaseKeepAlive stream. `send(id)` sends one keep-alive and resolves with its response.
 * The server answers the requests of a stream one by one, in order, so responses are matched to
 * sends first-in first-out; a send that timed out keeps its place in the queue, so a late answer
 * is not taken for the next one.
 */
export class LeaseKeepAliveStream {
  private readonly pending: PendingKeepAlive[] = [];
  private closed = false;
  private failure: ClientError | undefined;
  private static readonly METHOD = '/etcdserverpb.Lease/LeaseKeepAlive';

  constructor(
    private readonly call: Duplex,
    readonly endpoint: string,
    private readonly timeoutMs: number,
    /** Bound on sends awaiting an answer. */
    private readonly maxPending = 10_000,
  ) {
    const type = wire().LeaseKeepAliveResponse;
    call.on('data', (chunk: Buffer) => {
      const p = this.pending.shift();
      if (!p) {
        this.fail(new ClientError(Status.INTERNAL, 'keep-alive response with no request waiting', false, LeaseKeepAliveStream.METHOD, endpoint));
        return;
      }
      if (p.timer) clearTimeout(p.timer);
      if (p.abandoned) return;
      let r: LeaseKeepAliveResponse;
      try {
        r = decodeLeaseKeepAlive(decode(type, chunk));
      } catch (e) {
        p.reject(toClientError(e, LeaseKeepAliveStream.METHOD, endpoint, false));
        return;
      }
      if (r.id !== p.id) {
        this.fail(new ClientError(Status.INTERNAL, `keep-alive answered lease ${r.id}, expected ${p.id}`, false, LeaseKeepAliveStream.METHOD, endpoint));
        p.reject(this.failure as ClientError);
        return;
      }
      p.resolve(r);
    });
    call.on('error', (e: unknown) => this.fail(toClientError(e, LeaseKeepAliveStream.METHOD, endpoint, false)));
    call.on('end', () => this.fail(new ClientError(Status.UNAVAILABLE, 'keep-alive stream ended by the server', false, LeaseKeepAliveStream.METHOD, endpoint)));
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  send(id: bigint, opts: { timeoutMs?: number } = {}): Promise<LeaseKeepAliveResponse> {
    // Not sent at all in these cases, hence definite.
    if (this.closed) return Promise.reject(new ClientError(Status.CANCELLED, 'keep-alive stream is closed', true, LeaseKeepAliveStream.METHOD, this.endpoint));
    if (this.failure) return Promise.reject(new ClientError(this.failure.code, this.failure.message, true, LeaseKeepAliveStream.METHOD, this.endpoint, { cause: this.failure }));
    if (this.pendingCount >= this.maxPending) {
      return Promise.reject(new ClientError(Status.RESOURCE_EXHAUSTED, `more than ${this.maxPending} keep-alives awaiting answers`, true, LeaseKeepAliveStream.METHOD, this.endpoint));
    }
    return new Promise<LeaseKeepAliveResponse>((resolve, reject) => {
      const p: PendingKeepAlive = { id, resolve, reject, timer: undefined, abandoned: false };
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      p.timer = setTimeout(() => {
        p.abandoned = true;
        p.timer = undefined;
        reject(new ClientError(Status.DEADLINE_EXCEEDED, `keep-alive not answered within ${timeoutMs} ms`, false, LeaseKeepAliveStream.METHOD, this.endpoint));
      }, timeoutMs);
      this.pending.push(p);
      this.call.write(encode(wire().LeaseKeepAliveRequest, { ID: fromBigInt(id) }));
    });
  }

  private fail(e: ClientError): void {
    this.failure ??= e;
    const waiting = this.pending.splice(0);
    for (const p of waiting) {
      if (p.timer) clearTimeout(p.timer);
      if (!p.abandoned) p.reject(e);
    }
  }

  /** Ends the stream; sends still waiting fail with CANCELLED (indefinite: they were sent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new ClientError(Status.CANCELLED, 'keep-alive stream closed', false, LeaseKeepAliveStream.METHOD, this.endpoint));
    this.call.cancel();
  }
}
