/**
 * The frame layout on every peer connection:
 *
 *   u32 length (big-endian) | u8 kind | body (length - 1 bytes)
 *
 * `length` counts the kind byte and the body, so it is never 0. The kind byte lets a receiver
 * reject a frame that is out of place before decoding it, and lets snapshot chunks travel as raw
 * bytes instead of msgpackr-wrapped ones (one copy fewer per chunk). Every other body is msgpackr.
 *
 * Example: a batch of one heartbeat is `00 00 00 2a | 04 | 91 86 a4 74 79 70 65 ...` — length 42,
 * kind Batch, a msgpack array of one map.
 */
import { assert } from '../util/assert.js';

export enum FrameKind {
  /** Dialer → listener, first frame: [version, connection kind, from, to, clusterId]. */
  Hello = 1,
  /** Listener → dialer: handshake accepted, [version, listener id]. */
  Welcome = 2,
  /** Listener → dialer: handshake refused, [code, reason]; the listener then closes. */
  Reject = 3,
  /** Stream: a msgpack array of messages. */
  Batch = 4,
  /** Snapshot: the header object, once, before any chunk. */
  SnapshotHeader = 5,
  /** Snapshot: raw body bytes. */
  SnapshotChunk = 6,
  /** Snapshot: no more chunks (empty body). */
  SnapshotEnd = 7,
  /** Snapshot, receiver → sender: [ok, reason] once onSnapshot has finished. */
  SnapshotAck = 8,
}

const MAX_KIND = FrameKind.SnapshotAck;

export const FRAME_HEADER_BYTES = 5;

/** A frame body larger than the receiver's limit, or a length that cannot be a frame. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export interface Frame {
  readonly kind: FrameKind;
  /** A view; valid until the caller lets go of it (it may share memory with the socket's chunk). */
  readonly body: Uint8Array;
}

export function writeFrameHeader(target: Uint8Array, offset: number, kind: FrameKind, bodyBytes: number): void {
  assert(bodyBytes >= 0 && bodyBytes + 1 <= 0xffffffff, `transport: frame body of ${bodyBytes} bytes cannot be framed`);
  const view = new DataView(target.buffer, target.byteOffset + offset, FRAME_HEADER_BYTES);
  view.setUint32(0, bodyBytes + 1);
  view.setUint8(4, kind);
}

/** One buffer holding a whole frame (for small bodies; big ones are written header + body). */
export function encodeFrame(kind: FrameKind, body: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  writeFrameHeader(out, 0, kind, body.length);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

export function frameHeader(kind: FrameKind, bodyBytes: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(out, 0, kind, bodyBytes);
  return out;
}

/**
 * Cuts a byte stream into frames. Bodies that lie inside one socket chunk are returned as views
 * (no copy); a body spanning chunks is copied once into its own buffer. Memory is bounded by
 * `maxBodyBytes` plus one socket chunk: a header announcing more is an error before any of the
 * body is buffered.
 */
export class FrameDecoder {
  /** Unconsumed chunks; chunks[0] starts at `headOffset`. Invariant: buffered = sum of lengths - headOffset. */
  private readonly chunks: Uint8Array[] = [];
  private headOffset = 0;
  private buffered = 0;

  constructor(private maxBodyBytes: number) {
    assert(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0, 'transport: bad max frame size');
  }

  /** The handshake uses a small limit; the stream switches to the full one once it is accepted. */
  setMaxBodyBytes(maxBodyBytes: number): void {
    assert(Number.isSafeInteger(maxBodyBytes) && maxBodyBytes >= 0, 'transport: bad max frame size');
    this.maxBodyBytes = maxBodyBytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The next whole frame, or undefined until more bytes arrive. Throws FrameError on a bad header. */
  next(): Frame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    const header = this.peek(FRAME_HEADER_BYTES);
    const length = ((header[0]! << 24) >>> 0) + (header[1]! << 16) + (header[2]! << 8) + header[3]!;
    const kind = header[4]!;
    if (length === 0) throw new FrameError('frame length 0');
    const bodyBytes = length - 1;
    if (bodyBytes > this.maxBodyBytes) {
      throw new FrameError(`frame of ${bodyBytes} bytes exceeds the limit of ${this.maxBodyBytes} (first bytes ${hex(header)})`);
    }
    if (kind < 1 || kind > MAX_KIND) throw new FrameError(`unknown frame kind ${kind} (first bytes ${hex(header)})`);
    if (this.buffered < FRAME_HEADER_BYTES + bodyBytes) return undefined;
    this.skip(FRAME_HEADER_BYTES);
    return { kind: kind as FrameKind, body: this.take(bodyBytes) };
  }

  /** The first n buffered bytes (n <= buffered), copied only if they span chunks. */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length - this.headOffset >= n) return first.subarray(this.headOffset, this.headOffset + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let offset = this.headOffset;
    // Bounded: stops once n bytes are copied, and n <= buffered.
    for (const chunk of this.chunks) {
      const part = Math.min(n - filled, chunk.length - offset);
      out.set(chunk.subarray(offset, offset + part), filled);
      filled += part;
      offset = 0;
      if (filled === n) break;
    }
    return out;
  }

  private skip(n: number): void {
    this.consume(n, undefined);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length - this.headOffset >= n) {
      const view = new Uint8Array(first.buffer, first.byteOffset + this.headOffset, n);
      this.consume(n, undefined);
      return view;
    }
    const out = new Uint8Array(n);
    this.consume(n, out);
    return out;
  }

  /** Drops n bytes from the front, copying them into `into` if given. */
  private consume(n: number, into: Uint8Array | undefined): void {
    assert(n <= this.buffered, 'transport: frame decoder consumed more than it holds');
    let done = 0;
    // Bounded by the number of chunks holding those n bytes.
    while (done < n) {
      const chunk = this.chunks[0]!;
      const part = Math.min(n - done, chunk.length - this.headOffset);
      if (into !== undefined) into.set(chunk.subarray(this.headOffset, this.headOffset + part), done);
      done += part;
      this.headOffset += part;
      if (this.headOffset === chunk.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.buffered -= n;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
