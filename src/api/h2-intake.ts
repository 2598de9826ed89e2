/**
 * The start of an HTTP/2 connection, before grpc-js (node's HTTP/2, nghttp2) takes it over: we
 * answer the client's preface ourselves with an empty SETTINGS frame and read frames until the
 * first request's header block, so its `:authority` can be repaired (hpack.ts explains why).
 *
 * Go clients send no request before they have the server's SETTINGS, so waiting for the first
 * HEADERS frame needs our own SETTINGS; waiting stops once both of these have arrived:
 *
 * - the client's ACK of our SETTINGS, which is dropped: nghttp2 sends SETTINGS of its own after
 *   the hand-over and must see exactly one ACK, the one for those;
 * - the first HEADERS frame (with END_HEADERS), repaired if need be.
 *
 * A PING meanwhile (a client's keepalive while it has nothing to ask) is answered here and
 * dropped. Every other frame is kept, in order, for nghttp2. The result is a byte stream that
 * looks to nghttp2 like a connection that just started (preface, the client's SETTINGS, ...),
 * and to the client like a server that sent SETTINGS twice, which HTTP/2 allows.
 */
import { repairAuthority } from './hpack.js';

/** What every HTTP/2 client sends first (prior knowledge: gRPC over cleartext sends it at once). */
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FRAME_HEADER_BYTES = 9;
const TYPE_HEADERS = 0x1;
const TYPE_SETTINGS = 0x4;
const TYPE_PING = 0x6;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

/** An empty SETTINGS frame: the server's connection preface, with every setting at its default. */
export const EMPTY_SETTINGS_FRAME = Buffer.from([0, 0, 0, TYPE_SETTINGS, 0, 0, 0, 0, 0]);

/** A client that sends this much without finishing the intake is not a client we serve. */
const MAX_INTAKE_BYTES = 1024 * 1024;

export type IntakeState = 'reading' | 'done' | 'invalid';

export class Http2Intake {
  /** Bytes after the preface not yet parsed into whole frames. */
  private pending: Buffer = Buffer.alloc(0);
  /** What nghttp2 will read, in order: the preface, then the frames kept. */
  private readonly kept: Buffer[] = [HTTP2_PREFACE];
  private keptBytes = HTTP2_PREFACE.length;
  private settingsAcked = false;
  private sawHeaders = false;

  /** `reply` writes to the client (our SETTINGS, PING ACKs). */
  constructor(private readonly reply: (bytes: Buffer) => void) {
    reply(EMPTY_SETTINGS_FRAME);
  }

  /** Feeds bytes received after the preface. */
  push(chunk: Buffer): IntakeState {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    // Bounded by the bytes received: every iteration consumes one whole frame.
    while (this.pending.length >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUIntBE(0, 3);
      if (FRAME_HEADER_BYTES + length > this.pending.length) break;
      const frame = this.pending.subarray(0, FRAME_HEADER_BYTES + length);
      this.pending = this.pending.subarray(frame.length);
      this.onFrame(frame);
      if (this.settingsAcked && this.sawHeaders) return 'done';
    }
    return this.keptBytes + this.pending.length > MAX_INTAKE_BYTES ? 'invalid' : 'reading';
  }

  /** The bytes to replay into nghttp2: the kept frames and whatever followed them. */
  buffered(): Buffer {
    return Buffer.concat([...this.kept, this.pending]);
  }

  private keep(frame: Buffer): void {
    this.kept.push(frame);
    this.keptBytes += frame.length;
  }

  private onFrame(frame: Buffer): void {
    const type = frame[3] as number;
    const flags = frame[4] as number;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    if (type === TYPE_SETTINGS && (flags & FLAG_ACK) !== 0 && !this.settingsAcked) {
      this.settingsAcked = true;
      return;
    }
    if (type === TYPE_PING && (flags & FLAG_ACK) === 0 && streamId === 0 && frame.length === FRAME_HEADER_BYTES + 8) {
      const ack = Buffer.from(frame);
      ack[4] = FLAG_ACK;
      this.reply(ack);
      return;
    }
    if (type === TYPE_HEADERS && !this.sawHeaders) {
      this.sawHeaders = true;
      this.keep(repairHeadersFrame(frame));
      return;
    }
    this.keep(frame);
  }
}

/**
 * The HEADERS frame with its header block repaired, rebuilt without padding; the frame itself
 * when nothing changes or the block continues in CONTINUATION frames (clients split only
 * blocks far larger than a request's).
 */
function repairHeadersFrame(frame: Buffer): Buffer {
  const flags = frame[4] as number;
  if ((flags & FLAG_END_HEADERS) === 0) return frame;
  let start = FRAME_HEADER_BYTES;
  let end = frame.length;
  if ((flags & FLAG_PADDED) !== 0) {
    const padding = frame[start];
    if (padding === undefined) return frame;
    start += 1;
    end -= padding;
  }
  const priorityBytes = (flags & FLAG_PRIORITY) !== 0 ? 5 : 0;
  if (start + priorityBytes > end) return frame;
  const block = frame.subarray(start + priorityBytes, end);
  const repaired = repairAuthority(block);
  if (repaired === block) return frame;
  const header = Buffer.from(frame.subarray(0, FRAME_HEADER_BYTES));
  header.writeUIntBE(priorityBytes + repaired.length, 0, 3);
  header[4] = flags & ~FLAG_PADDED;
  return Buffer.concat([header, frame.subarray(start, start + priorityBytes), repaired]);
}
