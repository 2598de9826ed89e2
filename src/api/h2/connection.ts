/**
 * The server side of one HTTP/2 connection (RFC 9113), written for gRPC's traffic: many small
 * requests and responses on few connections. It exists because node's HTTP/2 (nghttp2 under a
 * Duplex stream per request, headers objects, and grpc-js's call objects above it) cost more CPU
 * per call than the rest of a range or a put together; here a request is a header list and a
 * body, and a response three frames written with everything else that turn.
 *
 * What it does:
 * - Reads the client preface and frames, decodes header blocks (hpack.ts), and hands each new
 *   request stream to onStream; bodies go to the stream's events.
 * - Flow control: the client gets a large window (STREAM_WINDOW, CONNECTION_WINDOW), given back
 *   as the handler consumes the bytes (a paused stream stops getting it back); our DATA waits
 *   for the client's window, per stream and for the connection.
 * - SETTINGS and PING are answered; PRIORITY and unknown frames ignored; server push never used.
 * - Output of one turn (every response the turn produced, window updates, acks) is written in
 *   one socket write on the next tick.
 * - A protocol violation ends the connection with GOAWAY and the error code; a stream's own
 *   violation resets that stream only.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../util/index.js';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  H2ConnectionError,
  H2StreamError,
  MAX_FRAME_LIMIT,
  MAX_WINDOW,
  SETTINGS_ACK,
  Setting,
  frame,
  goAwayFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
  writeFrameHeader,
} from './frame.js';
import { HpackDecoder, HpackError } from './hpack.js';
import { H2Stream, type StreamOwner } from './stream.js';

export interface H2ConnectionOptions {
  /** A new request: its headers are in; set stream.events before returning. */
  readonly onStream: (stream: H2Stream) => void;
  /** Larger request header lists are refused (the stream is reset). */
  readonly maxHeaderListBytes: number;
  readonly logger: Logger;
}

/** The window each request stream starts with, and the connection's: a request never waits for one. */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** Frames we accept: the protocol's default (we do not advertise more). */
const MAX_INBOUND_FRAME = DEFAULT_MAX_FRAME;
/** Output below this is copied into one buffer; above it goes out as a vectored write. */
const COALESCE_BELOW_BYTES = 64 * 1024;
/** After GOAWAY, how long a client has to close its side before the socket is destroyed. */
const END_LINGER_MS = 1000;

export class H2ServerConnection implements StreamOwner {
  private readonly streams = new Map<number, H2Stream>();
  private readonly decoder = new HpackDecoder();
  private input: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private settingsSeen = false;
  private lastStreamId = 0;
  /** A header block continues in CONTINUATION frames. */
  private continuing: { streamId: number; flags: number; parts: Buffer[]; bytes: number } | undefined;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private sendWindow = DEFAULT_WINDOW;
  private recvUnacked = 0;
  /** Streams whose DATA waits for the connection's window. */
  private readonly blocked = new Set<H2Stream>();
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private ending = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: H2ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    this.queue(
      settingsFrame([
        [Setting.InitialWindowSize, STREAM_WINDOW],
        [Setting.MaxHeaderListSize, options.maxHeaderListBytes],
      ]),
    );
    this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('drain', () => {
      for (const s of this.streams.values()) if (!s.needsDrain) s.events.onDrain();
    });
    socket.on('error', () => {});
    socket.once('close', () => this.lost());
  }

  get socketNeedsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Graceful end: GOAWAY, then the socket closes; open streams end as lost. */
  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.queue(goAwayFrame(this.lastStreamId, ErrorCode.NoError));
    this.endSocket();
  }

  destroy(): void {
    this.socket.destroy();
    this.lost();
  }

  // ---- input -------------------------------------------------------------------------------

  private onBytes(chunk: Buffer): void {
    if (this.ending) return;
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    try {
      this.parse();
    } catch (e) {
      if (e instanceof H2ConnectionError) return this.fail(e.code, e.message);
      if (e instanceof HpackError) return this.fail(ErrorCode.CompressionError, e.message);
      throw e;
    }
  }

  private parse(): void {
    let at = 0;
    const buf = this.input;
    if (!this.prefaceSeen) {
      if (buf.length < CLIENT_PREFACE.length) return;
      if (!buf.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) throw new H2ConnectionError(ErrorCode.ProtocolError, 'bad client preface');
      this.prefaceSeen = true;
      at = CLIENT_PREFACE.length;
    }
    // Bounded by the input: every pass consumes a whole frame (>= 9 bytes).
    while (!this.ending && buf.length - at >= FRAME_HEADER_BYTES) {
      const length = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      if (length > MAX_INBOUND_FRAME) throw new H2ConnectionError(ErrorCode.FrameSizeError, `frame of ${length} bytes`);
      if (buf.length - at < FRAME_HEADER_BYTES + length) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      try {
        this.onFrame(type, flags, streamId, payload);
      } catch (e) {
        if (!(e instanceof H2StreamError)) throw e;
        const s = this.streams.get(e.streamId);
        if (s !== undefined) this.resetStream(s, e.code);
        else this.queue(rstStreamFrame(e.streamId, e.code));
      }
    }
    this.input = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuing !== undefined && type !== FrameType.Continuation) {
      throw new H2ConnectionError(ErrorCode.ProtocolError, 'header block interrupted');
    }
    if (!this.settingsSeen && type !== FrameType.Settings) throw new H2ConnectionError(ErrorCode.ProtocolError, 'the client did not start with SETTINGS');
    switch (type) {
      case FrameType.Data:
        return this.onData(flags, streamId, payload);
      case FrameType.Headers:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.Continuation:
        return this.onContinuation(flags, streamId, payload);
      case FrameType.Priority:
        if (streamId === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'PRIORITY on stream 0');
        if (payload.length !== 5) throw new H2StreamError(streamId, ErrorCode.FrameSizeError, 'PRIORITY of the wrong size');
        return;
      case FrameType.RstStream:
        return this.onRstStream(streamId, payload);
      case FrameType.Settings:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PushPromise:
        throw new H2ConnectionError(ErrorCode.ProtocolError, 'a client sent PUSH_PROMISE');
      case FrameType.Ping:
        if (streamId !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'PING on a stream');
        if (payload.length !== 8) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'PING of the wrong size');
        if ((flags & Flag.Ack) === 0) this.queue(frame(FrameType.Ping, Flag.Ack, 0, payload));
        return;
      case FrameType.GoAway:
        if (streamId !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'GOAWAY on a stream');
        return;
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(streamId, payload);
      default:
        return; // Unknown frame types are ignored (RFC 9113 4.1).
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'DATA on stream 0');
    // Flow control counts the whole payload, padding included, whatever happens to the stream.
    this.recvUnacked += payload.length;
    if (this.recvUnacked > CONNECTION_WINDOW) throw new H2ConnectionError(ErrorCode.FlowControlError, 'the client overran the connection window');
    if (this.recvUnacked >= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdateFrame(0, this.recvUnacked));
      this.recvUnacked = 0;
    }
    const s = this.streams.get(streamId);
    if (s === undefined || s.remoteClosed) {
      if (streamId > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'DATA on an idle stream');
      throw new H2StreamError(streamId, ErrorCode.StreamClosed, 'DATA on a closed stream');
    }
    if (payload.length > s.recvWindow) throw new H2StreamError(streamId, ErrorCode.FlowControlError, 'the client overran the stream window');
    s.recvWindow -= payload.length;
    const body = unpad(flags, payload, streamId);
    // Padding is consumed at once; the body when the handler has it (replenish).
    s.unacked += payload.length - body.length;
    if (body.length > 0) s.events.onData(body);
    this.replenish(s, body.length);
    if ((flags & Flag.EndStream) !== 0) this.remoteEnded(s);
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'HEADERS on stream 0');
    let block = unpad(flags, payload, streamId);
    if ((flags & Flag.Priority) !== 0) {
      if (block.length < 5) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'HEADERS too short for its priority');
      block = block.subarray(5);
    }
    if ((flags & Flag.EndHeaders) === 0) {
      this.continuing = { streamId, flags, parts: [Buffer.from(block)], bytes: block.length };
      return;
    }
    this.onHeaderBlock(flags, streamId, block);
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const c = this.continuing;
    if (c === undefined || c.streamId !== streamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'CONTINUATION without HEADERS');
    c.parts.push(Buffer.from(payload));
    c.bytes += payload.length;
    if (c.bytes > 4 * this.options.maxHeaderListBytes) throw new H2ConnectionError(ErrorCode.EnhanceYourCalm, 'header block too large');
    if ((flags & Flag.EndHeaders) === 0) return;
    this.continuing = undefined;
    this.onHeaderBlock(c.flags, streamId, Buffer.concat(c.parts, c.bytes));
  }

  private onHeaderBlock(flags: number, streamId: number, block: Buffer): void {
    // Decoded whatever becomes of the stream: the decoder's table must stay in step with the client's.
    const { headers, tooLarge } = this.decoder.decode(block, this.options.maxHeaderListBytes);
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers: gRPC clients send none, but they are allowed, and they end the request.
      if (existing.remoteClosed) throw new H2StreamError(streamId, ErrorCode.StreamClosed, 'HEADERS on a half-closed stream');
      if ((flags & Flag.EndStream) === 0) throw new H2StreamError(streamId, ErrorCode.ProtocolError, 'trailers without END_STREAM');
      return this.remoteEnded(existing);
    }
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, `stream ${streamId} cannot be opened`);
    this.lastStreamId = streamId;
    if (tooLarge) throw new H2StreamError(streamId, ErrorCode.RefusedStream, 'header list too large');
    const s = new H2Stream(this, streamId, headers, STREAM_WINDOW, this.peerInitialWindow);
    this.streams.set(streamId, s);
    this.options.onStream(s);
    if ((flags & Flag.EndStream) !== 0) this.remoteEnded(s);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'RST_STREAM of the wrong size');
    if (streamId > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'RST_STREAM on an idle stream');
    const s = this.streams.get(streamId);
    if (s !== undefined) this.closeStream(s, 'reset');
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'SETTINGS on a stream');
    if ((flags & Flag.Ack) !== 0) {
      if (payload.length !== 0) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS ACK with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS of the wrong size');
    this.settingsSeen = true;
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === Setting.InitialWindowSize) {
        if (value > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FlowControlError, 'initial window too large');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === Setting.MaxFrameSize) {
        if (value < DEFAULT_MAX_FRAME || value > MAX_FRAME_LIMIT) throw new H2ConnectionError(ErrorCode.ProtocolError, 'bad max frame size');
        this.peerMaxFrame = value;
      } else if (id === Setting.EnablePush && value > 1) {
        throw new H2ConnectionError(ErrorCode.ProtocolError, 'bad enable push');
      }
      // HEADER_TABLE_SIZE bounds the table our encoder may use: we never index, so any size does.
    }
    this.queue(SETTINGS_ACK);
    for (const s of this.streams.values()) this.sendData(s);
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new H2ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new H2ConnectionError(ErrorCode.FlowControlError, 'connection window overflow');
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const s of waiting) this.sendData(s);
      return;
    }
    const s = this.streams.get(streamId);
    if (s === undefined) {
      if (streamId > this.lastStreamId) throw new H2ConnectionError(ErrorCode.ProtocolError, 'WINDOW_UPDATE on an idle stream');
      return;
    }
    if (increment === 0) throw new H2StreamError(streamId, ErrorCode.ProtocolError, 'WINDOW_UPDATE of 0');
    s.sendWindow += increment;
    if (s.sendWindow > MAX_WINDOW) throw new H2StreamError(streamId, ErrorCode.FlowControlError, 'stream window overflow');
    this.sendData(s);
  }

  private remoteEnded(s: H2Stream): void {
    s.remoteClosed = true;
    s.events.onEnd();
    this.maybeDone(s);
  }

  // ---- StreamOwner: output -------------------------------------------------------------------

  sendHeaders(s: H2Stream, block: Buffer, endStream: boolean): void {
    // Our blocks are a few dozen bytes; split anyway if a peer's frame limit ever asks for it.
    let flags = endStream ? Flag.EndStream : 0;
    let type = FrameType.Headers;
    for (let at = 0; ; ) {
      const part = block.subarray(at, at + this.peerMaxFrame);
      at += part.length;
      const last = at >= block.length;
      this.queue(frame(type, flags | (last ? Flag.EndHeaders : 0), s.id, part));
      if (last) break;
      type = FrameType.Continuation;
      flags = 0;
    }
    if (endStream) this.maybeDone(s);
  }

  sendData(s: H2Stream): void {
    if (s.closed) return;
    // Bounded by the queued bytes: every pass sends at least one byte or stops.
    while (s.pending.length > 0) {
      const allowed = Math.min(s.sendWindow, this.sendWindow, this.peerMaxFrame);
      if (allowed <= 0) {
        if (this.sendWindow <= 0) this.blocked.add(s);
        return;
      }
      const head = s.pending[0]!;
      const part = head.length <= allowed ? head : head.subarray(0, allowed);
      if (part === head) s.pending.shift();
      else s.pending[0] = head.subarray(allowed);
      s.pendingBytes -= part.length;
      s.sendWindow -= part.length;
      this.sendWindow -= part.length;
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(header, 0, part.length, FrameType.Data, 0, s.id);
      this.queue(header);
      this.queue(part);
    }
    if (s.trailers !== undefined) {
      const block = s.trailers;
      s.trailers = undefined;
      s.headersSent = true;
      this.sendHeaders(s, block, true);
    } else if (!s.needsDrain) {
      s.events.onDrain();
    }
  }

  resetStream(s: H2Stream, code: ErrorCode): void {
    this.queue(rstStreamFrame(s.id, code));
    this.closeStream(s, 'reset');
  }

  replenish(s: H2Stream, bytes: number): void {
    s.unacked += bytes;
    if (s.paused || s.closed || s.remoteClosed || s.unacked < STREAM_WINDOW / 4) return;
    this.queue(windowUpdateFrame(s.id, s.unacked));
    s.recvWindow += s.unacked;
    s.unacked = 0;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Both sides ended: the stream is done. A client still sending is told to stop (NO_ERROR). */
  private maybeDone(s: H2Stream): void {
    if (!s.localClosed || s.trailers !== undefined || s.pending.length > 0) return;
    if (!s.remoteClosed) this.queue(rstStreamFrame(s.id, ErrorCode.NoError));
    this.closeStream(s, 'done');
  }

  private closeStream(s: H2Stream, reason: 'done' | 'reset' | 'lost'): void {
    if (s.closed) return;
    s.closed = true;
    s.pending.length = 0;
    s.pendingBytes = 0;
    this.streams.delete(s.id);
    this.blocked.delete(s);
    s.events.onClose(reason);
  }

  private fail(code: ErrorCode, message: string): void {
    this.options.logger.debug('api: HTTP/2 connection error', { code, message });
    this.queue(goAwayFrame(this.lastStreamId, code, message));
    this.ending = true;
    this.endSocket();
  }

  /** Writes what is queued, half-closes, and destroys the socket if the client does not close soon. */
  private endSocket(): void {
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_LINGER_MS).unref();
    this.lost();
  }

  private lost(): void {
    this.ending = true;
    for (const s of [...this.streams.values()]) this.closeStream(s, 'lost');
  }

  private queue(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Everything queued this turn, in one write. */
  private flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    if (out.length === 0) return;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    if (this.socket.destroyed || !this.socket.writable) return;
    if (out.length === 1) this.socket.write(out[0]!);
    else if (bytes < COALESCE_BELOW_BYTES) this.socket.write(Buffer.concat(out, bytes));
    else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
  }
}

/** A DATA or HEADERS payload without its padding (RFC 9113 6.1). */
function unpad(flags: number, payload: Buffer, streamId: number): Buffer {
  if ((flags & Flag.Padded) === 0) return payload;
  if (payload.length < 1) throw new H2ConnectionError(ErrorCode.FrameSizeError, 'padded frame without a pad length');
  const pad = payload[0]!;
  if (pad >= payload.length) throw new H2ConnectionError(ErrorCode.ProtocolError, `padding longer than the frame on stream ${streamId}`);
  return payload.subarray(1, payload.length - pad);
}
