/**
 * One HTTP/2 stream of a server connection, as the request's handler sees it: the request's
 * headers, its body as it arrives (onData, onEnd), and the response going out (respond, write,
 * end), with flow control in both directions done by the connection (connection.ts).
 *
 * Lifecycle (RFC 9113 5.1, server side): open ──client END_STREAM──▶ half-closed (remote)
 * ──our END_STREAM──▶ closed; a RST_STREAM from either side or the connection's end closes it at
 * once. onClose runs exactly once, however it closed; after it nothing is sent.
 */
import type { ErrorCode } from './frame.js';

export interface StreamEvents {
  /** Request body bytes (a view into the connection's input: copy what you keep). */
  onData(bytes: Buffer): void;
  /** The client half-closed: no more body. */
  onEnd(): void;
  /** The stream is gone: the response was sent, or it was reset, or the connection ended. */
  onClose(reason: 'done' | 'reset' | 'lost'): void;
  /** The data queued by write() went out (see needsDrain). */
  onDrain(): void;
}

/** What a stream needs from its connection. */
export interface StreamOwner {
  sendHeaders(stream: H2Stream, block: Buffer, endStream: boolean): void;
  sendData(stream: H2Stream): void;
  resetStream(stream: H2Stream, code: ErrorCode): void;
  /** The handler took the body bytes it was given: the client may send that many more. */
  replenish(stream: H2Stream, bytes: number): void;
  readonly socketNeedsDrain: boolean;
}

const NO_EVENTS: StreamEvents = { onData: () => {}, onEnd: () => {}, onClose: () => {}, onDrain: () => {} };

/** Data queued beyond this makes needsDrain true: a streaming writer waits for onDrain. */
const HIGH_WATER_BYTES = 256 * 1024;

export class H2Stream {
  events: StreamEvents = NO_EVENTS;
  /** The client sent END_STREAM. */
  remoteClosed = false;
  /** We sent (or queued) END_STREAM. */
  localClosed = false;
  closed = false;
  headersSent = false;
  /** Bytes the client may still send on this stream before we send WINDOW_UPDATE. */
  recvWindow: number;
  /** Bytes we may still send on this stream (the client's window). */
  sendWindow: number;
  /** DATA payloads waiting for flow-control window, and the trailers to send after them. */
  readonly pending: Buffer[] = [];
  pendingBytes = 0;
  trailers: Buffer | undefined;
  /** Body bytes handed to the handler and not yet counted back (paused streams hold them). */
  unacked = 0;
  paused = false;

  constructor(
    private readonly owner: StreamOwner,
    readonly id: number,
    readonly headers: readonly (readonly [string, string])[],
    recvWindow: number,
    sendWindow: number,
  ) {
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** The first value of a request header, or undefined. */
  header(name: string): string | undefined {
    for (const [n, v] of this.headers) if (n === name) return v;
    return undefined;
  }

  /** Sends the response headers (a complete HPACK block); endStream for a trailers-only response. */
  respond(block: Buffer, endStream = false): void {
    if (this.closed || this.headersSent) return;
    this.headersSent = true;
    if (endStream) this.localClosed = true;
    this.owner.sendHeaders(this, block, endStream);
  }

  /** Queues response body bytes; they leave as the client's flow-control window allows. */
  write(bytes: Buffer): void {
    if (this.closed || this.localClosed || bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.owner.sendData(this);
  }

  /** Ends the response with trailers (an HPACK block), after the queued data. */
  end(trailerBlock: Buffer): void {
    if (this.closed || this.localClosed) return;
    this.localClosed = true;
    this.trailers = trailerBlock;
    this.owner.sendData(this);
  }

  reset(code: ErrorCode): void {
    if (!this.closed) this.owner.resetStream(this, code);
  }

  /** Enough is queued that a writer should wait for onDrain before writing more. */
  get needsDrain(): boolean {
    return this.pendingBytes > HIGH_WATER_BYTES || this.owner.socketNeedsDrain;
  }

  /** Stops giving the client window on this stream: it stops sending once the window is used. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.owner.replenish(this, 0);
  }
}
