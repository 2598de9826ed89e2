/**
 * A socket that reads and writes frames (frame.ts). It owns the socket's listeners, turns any way
 * the connection ends (peer FIN, reset, our destroy, a bad frame) into exactly one onClose, and
 * never lets a socket error become an uncaught exception.
 */
import type net from 'node:net';
import { FrameDecoder, FrameError, type Frame, type FrameKind, encodeFrame, frameHeader } from './frame.js';

export interface FrameHandler {
  /** A whole frame. May call destroy(), pause() or end(); no further frames arrive after destroy(). */
  onFrame(frame: Frame): void;
  /** Exactly once, after the socket has closed; `err` says why (undefined for a clean close). */
  onClose(err: Error | undefined): void;
  /** The socket's write buffer emptied after a write returned false. */
  onDrain?(): void;
}

// Bodies up to this size are copied next to their header (one write); bigger ones are written
// as header + body so a snapshot chunk is never copied.
const COPY_BODY_BELOW_BYTES = 16 * 1024;

export class FramedSocket {
  private readonly decoder: FrameDecoder;
  /** True once destroy() or end() ran or the socket closed: no more frames are delivered. */
  private closing = false;
  private closeError: Error | undefined;
  private paused = false;
  private pumping = false;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: net.Socket,
    maxBodyBytes: number,
    private handler: FrameHandler,
  ) {
    this.decoder = new FrameDecoder(maxBodyBytes);
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.pump();
    });
    socket.on('error', (err) => {
      this.closeError ??= err;
    });
    socket.on('drain', () => {
      if (!this.closing) this.handler.onDrain?.();
    });
    socket.once('close', () => {
      this.closing = true;
      if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.handler.onClose(this.closeError);
    });
  }

  /** Hands the connection to a new owner (the handshake is done and the stream takes over). */
  setHandler(handler: FrameHandler): void {
    this.handler = handler;
  }

  setMaxBodyBytes(maxBodyBytes: number): void {
    this.decoder.setMaxBodyBytes(maxBodyBytes);
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** The write buffer is above its high-water mark: wait for onDrain before writing more. */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Writes one frame; false means "wait for onDrain" (the frame is still queued, not lost). */
  write(kind: FrameKind, body?: Uint8Array): boolean {
    if (this.closing) return false;
    if (body === undefined || body.length < COPY_BODY_BELOW_BYTES) return this.socket.write(encodeFrame(kind, body));
    this.socket.cork();
    this.socket.write(frameHeader(kind, body.length));
    const ok = this.socket.write(body);
    this.socket.uncork();
    return ok;
  }

  /** Writes a frame the caller assembled (header included), e.g. a batch built in place. */
  writeFrame(frame: Uint8Array): boolean {
    if (this.closing) return false;
    return this.socket.write(frame);
  }

  /** Closes now. onClose follows (on a later turn) with `err`. */
  destroy(err?: Error): void {
    this.closeError ??= err;
    this.closing = true;
    this.socket.destroy();
  }

  /**
   * Closes after what was written has been flushed (so a Reject or an Ack reaches the peer),
   * and destroys anyway after `lingerMs` if the peer does not close its side.
   */
  end(lingerMs: number, err?: Error): void {
    if (this.closing) return;
    this.closeError ??= err;
    this.closing = true;
    this.socket.end();
    // Keep reading (and discarding) so the peer's close is noticed at once, even if we had paused.
    this.paused = false;
    this.socket.resume();
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.socket.destroy();
    }, lingerMs);
  }

  /** Stops delivering frames (and reading the socket) until resume(). */
  pause(): void {
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.closing) return;
    this.socket.resume();
    this.pump();
  }

  /** Delivers the whole frames buffered so far. Bounded by the bytes buffered (>= 5 per frame). */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closing && !this.paused) {
        let frame: Frame | undefined;
        try {
          frame = this.decoder.next();
        } catch (err) {
          if (!(err instanceof FrameError)) throw err;
          this.destroy(err);
          return;
        }
        if (frame === undefined) return;
        this.handler.onFrame(frame);
      }
    } finally {
      this.pumping = false;
    }
  }
}
