/**
 * gRPC over our own HTTP/2 (h2/connection.ts): the client port's gRPC side. Each request stream
 * is one call of an RPC of proto/ (protos.methods): its messages are length-prefixed protobuf
 * (gRPC's wire format), decoded into the shapes the handlers take (proto.ts MESSAGE_OPTIONS),
 * and its status goes out in trailers (`grpc-status`, `grpc-message`), or alone ("trailers-only")
 * when the call fails before any response.
 *
 * Unary RPCs run handlers.ts's handlers once the request has arrived whole; server-streaming and
 * bidirectional ones run stream-handlers.ts's, fed as messages arrive (etcd has no
 * client-streaming RPC). RPCs without a handler answer UNIMPLEMENTED, unknown paths as grpc-go
 * does. The texts of the errors this layer makes itself are grpc-go's, which etcd serves.
 */
import type { Socket } from 'node:net';
import { GrpcCode } from '../errors.js';
import type { WatchResult } from '../server/service.js';
import type { Logger } from '../util/index.js';
import { toWireStatus, unimplemented, type WireStatus } from './errors.js';
import { H2ServerConnection } from './h2/connection.js';
import { encodeIndexed, encodeLiteral } from './h2/hpack.js';
import type { H2Stream } from './h2/stream.js';
import type { CallInfo, UnaryHandler } from './handlers.js';
import { MESSAGE_OPTIONS, type ApiProtos, type RpcMethod } from './proto.js';
import { RequestQueue, type StreamHandler } from './stream-call.js';
import { encodeWatchResponse, WATCH_RESULT } from './watch-encode.js';

export interface GrpcServerOptions {
  /** gRPC's receive limit: etcd allows max-request-bytes plus 512 KiB of gRPC overhead. */
  readonly maxReceiveBytes: number;
  readonly logger: Logger;
}

export interface GrpcServer {
  /** Serves an HTTP/2 connection whose bytes, from the client preface on, are still unread. */
  serve(socket: Socket): void;
  /** Ends every connection (GOAWAY); calls in flight see their signal abort. */
  close(): void;
}

/** A request's header list may be this large (grpc-go's default is far larger; etcd's clients send a few hundred bytes). */
const MAX_HEADER_LIST_BYTES = 64 * 1024;
const MESSAGE_PREFIX_BYTES = 5;

const RESPONSE_HEADERS = Buffer.concat([encodeIndexed(8), encodeLiteral('content-type', 'application/grpc')]);
const TRAILERS_OK = encodeLiteral('grpc-status', '0');

export function createGrpcServer(
  protos: ApiProtos,
  handlers: ReadonlyMap<string, UnaryHandler>,
  streamHandlers: ReadonlyMap<string, StreamHandler>,
  options: GrpcServerOptions,
): GrpcServer {
  const connections = new Set<H2ServerConnection>();
  const onStream = (stream: H2Stream): void => {
    const method = stream.header(':path');
    const rpc = method === undefined ? undefined : protos.methods.get(method);
    if (stream.header(':method') !== 'POST') return refuseHttp(stream, '405');
    if (!(stream.header('content-type') ?? '').startsWith('application/grpc')) return refuseHttp(stream, '415');
    if (rpc === undefined) return finish(stream, unknownMethod(protos, method ?? ''));
    const encoding = stream.header('grpc-encoding');
    if (encoding !== undefined && encoding !== 'identity') {
      return finish(stream, { code: GrpcCode.UNIMPLEMENTED, message: `grpc: Decompressor is not installed for grpc-encoding "${encoding}"` });
    }
    new Call(stream, rpc, handlers, streamHandlers, options).start();
  };
  return {
    serve(socket) {
      const conn = new H2ServerConnection(socket, { onStream, maxHeaderListBytes: MAX_HEADER_LIST_BYTES, logger: options.logger });
      connections.add(conn);
      socket.once('close', () => connections.delete(conn));
    },
    close() {
      for (const c of connections) c.close();
      connections.clear();
    },
  };
}

/** One RPC on one stream. */
class Call {
  /**
   * The handler's signal, made when a handler first asks (few do: lock, campaign, the streams):
   * an AbortController per unary call was 1% of a member's CPU under a put load, besides its
   * garbage. `cancelled` is what the call itself checks.
   */
  private abort: AbortController | undefined;
  private cancelled = false;
  private readonly reader: MessageReader;
  private requests: RequestQueue<unknown> | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private unaryRequest: Buffer | undefined;
  private failed = false;

  constructor(
    private readonly stream: H2Stream,
    private readonly rpc: RpcMethod,
    private readonly handlers: ReadonlyMap<string, UnaryHandler>,
    private readonly streamHandlers: ReadonlyMap<string, StreamHandler>,
    private readonly options: GrpcServerOptions,
  ) {
    this.reader = new MessageReader(options.maxReceiveBytes);
  }

  start(): void {
    const s = this.stream;
    const timeout = parseTimeout(s.header('grpc-timeout'));
    if (timeout !== undefined) {
      this.deadline = setTimeout(() => this.fail({ code: GrpcCode.DEADLINE_EXCEEDED, message: 'context deadline exceeded' }), timeout);
      this.deadline.unref();
    }
    s.events = {
      onData: (bytes) => this.onData(bytes),
      onEnd: () => this.onEnd(),
      onClose: (reason) => {
        clearTimeout(this.deadline);
        if (reason !== 'done') this.cancel();
        this.requests?.end();
      },
      onDrain: () => this.drained?.(),
    };
    if (this.rpc.requestStream) this.startStreaming();
  }

  private onData(bytes: Buffer): void {
    if (this.failed) return;
    const r = this.reader.push(bytes);
    if (!Array.isArray(r)) return this.fail(r);
    for (const message of r) {
      if (this.rpc.requestStream) {
        const request = this.decode(message);
        if (this.failed) return;
        this.requests?.push(request);
      } else if (this.unaryRequest !== undefined) return this.fail({ code: GrpcCode.UNIMPLEMENTED, message: 'grpc: unexpected second request message' });
      else this.unaryRequest = message;
    }
  }

  private onEnd(): void {
    if (this.failed) return;
    if (this.reader.partial) return this.fail({ code: GrpcCode.INTERNAL, message: 'grpc: request ended inside a message' });
    if (this.rpc.requestStream) return this.requests?.end();
    const raw = this.unaryRequest;
    if (raw === undefined) return this.fail({ code: GrpcCode.INTERNAL, message: 'grpc: no request message' });
    const request = this.decode(raw);
    if (this.failed) return;
    if (this.rpc.responseStream) this.runStream(request);
    else this.runUnary(request, raw.length);
  }

  /** The request's object, or undefined after failing the call with INTERNAL. */
  private decode(bytes: Buffer): unknown {
    try {
      return this.rpc.requestType.toObject(this.rpc.requestType.decode(bytes), MESSAGE_OPTIONS);
    } catch (e) {
      this.fail({ code: GrpcCode.INTERNAL, message: `grpc: error unmarshalling request: ${(e as Error).message}` });
      return undefined;
    }
  }

  private runUnary(request: unknown, requestBytes: number): void {
    const handler = this.handlers.get(this.rpc.path);
    if (handler === undefined) return this.fail(statusOf(unimplemented(this.rpc.name)));
    handler(request, new UnaryCallInfo(this, requestBytes)).then(
      (response) => {
        if (this.cancelled || this.failed) return;
        clearTimeout(this.deadline);
        const s = this.stream;
        s.respond(RESPONSE_HEADERS);
        s.write(this.encode(response));
        s.end(TRAILERS_OK);
      },
      (e: unknown) => this.fail(toWireStatus(e, this.options.logger, this.rpc.path)),
    );
  }

  // ---- streaming ---------------------------------------------------------------------------

  private drained: (() => void) | undefined;

  private startStreaming(): void {
    const s = this.stream;
    this.requests = new RequestQueue<unknown>({ pause: () => s.pause(), resume: () => s.resume() });
    this.runHandler(this.requests);
  }

  /** A server-streaming call: its one request, then the handler. */
  private runStream(request: unknown): void {
    const requests = new RequestQueue<unknown>(undefined);
    requests.push(request);
    requests.end();
    this.requests = requests;
    this.runHandler(requests);
  }

  private runHandler(requests: RequestQueue<unknown>): void {
    const handler = this.streamHandlers.get(this.rpc.path);
    if (handler === undefined) return this.fail(statusOf(unimplemented(this.rpc.name)));
    handler({ requests, write: (response) => this.writeResponse(response), signal: this.signal() }).then(
      () => {
        if (this.cancelled || this.failed) return;
        clearTimeout(this.deadline);
        if (!this.stream.headersSent) return finish(this.stream, { code: GrpcCode.OK, message: '' });
        this.stream.end(TRAILERS_OK);
      },
      (e: unknown) => this.fail(toWireStatus(e, this.options.logger, this.rpc.path)),
    );
  }

  /** Sends one response; resolves once the stream can take more (or the call ended). */
  private writeResponse(response: object): Promise<void> {
    const s = this.stream;
    if (this.cancelled || this.failed || s.closed) return Promise.resolve();
    s.respond(RESPONSE_HEADERS);
    s.write(this.encode(response));
    if (!s.needsDrain) return Promise.resolve();
    const signal = this.signal();
    return new Promise((resolve) => {
      const done = (): void => {
        this.drained = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.drained = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** A response message in gRPC's framing: flag 0 (not compressed), length, protobuf. */
  private encode(response: object): Buffer {
    const watch = (response as { [WATCH_RESULT]?: WatchResult })[WATCH_RESULT];
    const type = this.rpc.responseType;
    const body = watch !== undefined ? encodeWatchResponse(watch) : type.encode(type.fromObject(response)).finish();
    const out = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + body.length);
    out[0] = 0;
    out.writeUInt32BE(body.length, 1);
    out.set(body, MESSAGE_PREFIX_BYTES);
    return out;
  }

  /** Ends the call with a status (once); the handler's signal aborts. */
  private fail(status: WireStatus): void {
    if (this.failed || this.stream.closed) return;
    this.failed = true;
    clearTimeout(this.deadline);
    finish(this.stream, status);
    this.cancel();
    this.requests?.end();
  }

  /** Aborts when the client goes away or the call fails; already aborted if it did. */
  signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      if (this.cancelled) this.abort.abort();
    }
    return this.abort.signal;
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.abort?.abort();
  }
}

/** A unary handler's view of its call; the signal is made only if the handler reads it. */
class UnaryCallInfo implements CallInfo {
  constructor(
    private readonly call: Call,
    private readonly bytes: number,
  ) {}

  requestBytes(): number {
    return this.bytes;
  }

  get signal(): AbortSignal {
    return this.call.signal();
  }
}

/**
 * gRPC's messages out of a stream's body bytes: a 1-byte compressed flag, a 4-byte length and
 * the message. A message may span DATA frames, and a frame may hold many messages.
 */
class MessageReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  /** Part of a message is buffered. */
  get partial(): boolean {
    return this.buf.length > 0;
  }

  /** The whole messages completed by these bytes (copies), or the status to fail with. */
  push(bytes: Buffer): Buffer[] | WireStatus {
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([this.buf, bytes]);
    const out: Buffer[] = [];
    // Bounded by the buffer: each pass consumes >= 5 bytes or stops.
    while (this.buf.length >= MESSAGE_PREFIX_BYTES) {
      const length = this.buf.readUInt32BE(1);
      if (this.buf[0] !== 0) return { code: GrpcCode.INTERNAL, message: 'grpc: compressed flag set with identity or empty encoding' };
      if (length > this.maxBytes) {
        return { code: GrpcCode.RESOURCE_EXHAUSTED, message: `grpc: received message larger than max (${length} vs. ${this.maxBytes})` };
      }
      if (this.buf.length < MESSAGE_PREFIX_BYTES + length) break;
      // A copy: the input is a view into the connection's socket chunk.
      out.push(Buffer.from(this.buf.subarray(MESSAGE_PREFIX_BYTES, MESSAGE_PREFIX_BYTES + length)));
      this.buf = this.buf.subarray(MESSAGE_PREFIX_BYTES + length);
    }
    // Keep only what is still needed (and never a view pinning the connection's input).
    if (this.buf.length > 0 && this.buf === bytes) this.buf = Buffer.from(this.buf);
    return out;
  }
}

/** The status as trailers, or as a trailers-only response when nothing was sent yet. */
function finish(stream: H2Stream, status: WireStatus): void {
  const trailers = statusBlock(status);
  if (stream.headersSent) stream.end(trailers);
  else stream.respond(Buffer.concat([RESPONSE_HEADERS, trailers]), true);
}

function refuseHttp(stream: H2Stream, code: '405' | '415'): void {
  stream.respond(encodeLiteral(':status', code), true);
}

function statusBlock(status: WireStatus): Buffer {
  if (status.code === GrpcCode.OK) return TRAILERS_OK;
  return Buffer.concat([encodeLiteral('grpc-status', String(status.code)), encodeLiteral('grpc-message', percentEncode(status.message))]);
}

function statusOf(e: { grpcCode: GrpcCode; message: string }): WireStatus {
  return { code: e.grpcCode, message: e.message };
}

/** grpc-go's status for a path no service of ours has. */
function unknownMethod(protos: ApiProtos, path: string): WireStatus {
  const [, service = '', name = ''] = /^\/([^/]*)\/(.*)$/.exec(path) ?? [];
  if (!protos.services.includes(service)) return { code: GrpcCode.UNIMPLEMENTED, message: `unknown service ${service}` };
  return { code: GrpcCode.UNIMPLEMENTED, message: `unknown method ${name} for service ${service}` };
}

/** grpc-message is percent-encoded UTF-8 (gRPC's HTTP/2 protocol): bytes outside 0x20–0x7e and '%'. */
export function percentEncode(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  let plain = true;
  for (const b of bytes) if (b < 0x20 || b > 0x7e || b === 0x25) plain = false;
  if (plain) return message;
  let out = '';
  for (const b of bytes) out += b < 0x20 || b > 0x7e || b === 0x25 ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b);
  return out;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** grpc-timeout ("100m", "5S", ...) in ms; undefined when absent or malformed. */
export function parseTimeout(value: string | undefined): number | undefined {
  const m = value === undefined ? null : /^(\d{1,8})([HMSmun])$/.exec(value);
  if (m === null) return undefined;
  return Math.min(Number(m[1]) * (TIMEOUT_UNIT_MS[m[2] ?? ''] ?? 1), 2 ** 31 - 1);
}
