/**
 * The outbound stream to one peer: one TCP connection (to the first URL that answers), a
 * handshake, then batch frames carrying whatever was queued when the socket was writable.
 *
 * States:  connecting ──dial ok──▶ handshaking ──Welcome──▶ open
 *              ▲                        │ Reject/timeout/close   │ close/error
 *              └── waiting (backoff) ◀──┴────────────────────────┘
 *          any ──close()──▶ closed (final)
 *
 * Delivery: each message leaves the queue exactly once, into one frame on one connection, so a
 * peer never sees a message twice and sees one connection's messages in send order. Messages in a
 * connection that breaks may be lost; raft retransmits.
 */
import type { Socket } from 'node:net';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { Backoff } from './backoff.js';
import {
  CodecError,
  MAX_HANDSHAKE_BYTES,
  PROTOCOL_VERSION,
  arrayHeaderBytes,
  decodeReject,
  decodeWelcome,
  encodeHello,
} from './codec.js';
import type { TransportConfig } from './config.js';
import { TransportError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameKind, writeFrameHeader, type Frame } from './frame.js';
import { FramedSocket } from './framed-socket.js';
import { MessageQueue } from './message-queue.js';
import { dialFirst, type Network } from './network.js';
import type { PeerUrl } from './peer-url.js';
import { RateGate } from './rate-gate.js';
import { idHex, type MessageCodec, type PeerMessage, type PeerStats } from './types.js';

/** What a Peer needs from its Transport. */
export interface PeerContext {
  readonly selfId: bigint;
  readonly clusterId: bigint;
  readonly config: TransportConfig;
  readonly network: Network;
  readonly logger: Logger;
  readonly random: () => number;
  readonly codec: MessageCodec;
  /** Queues an onUnreachable for a later turn (rate limiting is the Peer's). */
  reportUnreachable(id: bigint): void;
  peerStatus(id: bigint, active: boolean): void;
}

type PeerState = 'connecting' | 'handshaking' | 'open' | 'waiting' | 'closed';

// A flush writes at most this many frames before yielding the event loop to other sockets.
const MAX_FRAMES_PER_FLUSH = 8;

export class Peer {
  private state: PeerState = 'waiting';
  private urls: readonly PeerUrl[];
  private readonly queue: MessageQueue<PeerMessage>;
  private readonly backoff: Backoff;
  private readonly unreachableGate: RateGate;
  private readonly dropLogGate = new RateGate(1000);
  /** Set in connecting/handshaking/open; the connection the state refers to. */
  private conn: FramedSocket | undefined;
  private connUrl: PeerUrl | undefined;
  /** Set while connecting: aborting it abandons the dial. */
  private dialAbort: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;
  /** Running while a write waits for 'drain': fires if the peer reads nothing for writeTimeoutMs. */
  private stallTimer: NodeJS.Timeout | undefined;
  /** A connection attempt failed since the last successful handshake. */
  private down = false;
  private everOpened = false;
  /** The last failure logged at warn level; repeats of it go to debug. */
  private lastFailure = '';

  constructor(
    private readonly ctx: PeerContext,
    readonly id: bigint,
    urls: readonly PeerUrl[],
    readonly stats: PeerStats,
  ) {
    assert(urls.length > 0, `transport: peer ${idHex(id)} has no URLs`);
    this.urls = urls;
    this.queue = new MessageQueue(ctx.config.queueLimit);
    this.backoff = new Backoff(ctx.config.backoffMinMs, ctx.config.backoffMaxMs, ctx.random);
    this.unreachableGate = new RateGate(ctx.config.unreachableIntervalMs);
    this.connect();
  }

  get peerUrls(): readonly PeerUrl[] {
    return this.urls;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Queues a message; never blocks or throws for a peer that is down. */
  enqueue(msg: PeerMessage): void {
    if (this.state === 'closed') return;
    if (!this.queue.push(msg)) {
      this.stats.drops++;
      if (this.dropLogGate.tryPass(Date.now())) {
        this.ctx.logger.warn('transport: queue to peer full, dropping messages', { peer: idHex(this.id), queued: this.queue.length, drops: this.stats.drops });
      }
      this.reportUnreachable();
      return;
    }
    this.stats.queued = this.queue.length;
    if (this.down) this.reportUnreachable();
    this.scheduleFlush();
  }

  /** New URLs: keep a connection whose URL is still listed; otherwise redial at once. */
  setUrls(urls: readonly PeerUrl[]): void {
    assert(urls.length > 0, `transport: peer ${idHex(this.id)} has no URLs`);
    this.urls = urls;
    const listed = (u: PeerUrl | undefined): boolean => u !== undefined && urls.some((x) => x.text === u.text);
    switch (this.state) {
      case 'closed':
        return;
      case 'open':
      case 'handshaking':
        if (!listed(this.connUrl)) this.conn?.destroy(new TransportError('STOPPED', 'peer URLs changed'));
        return;
      case 'connecting':
        this.dialAbort?.abort();
        this.dialAbort = undefined;
        this.backoff.reset();
        this.connect();
        return;
      case 'waiting':
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.backoff.reset();
        this.connect();
        return;
    }
  }

  /** Final: drops the queue, closes the connection and cancels every timer. */
  close(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.dialAbort?.abort();
    this.dialAbort = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    this.clearStallTimer();
    const conn = this.conn;
    this.conn = undefined;
    conn?.destroy(new TransportError('STOPPED', 'transport: peer closed'));
    this.queue.clear();
    this.stats.queued = 0;
    this.stats.active = false;
    if (wasOpen) this.ctx.logger.info('transport: stream to peer closed', { peer: idHex(this.id) });
  }

  private connect(): void {
    assert(this.state !== 'closed' && this.conn === undefined && this.dialAbort === undefined, 'transport: connect while connected');
    this.state = 'connecting';
    const abort = new AbortController();
    this.dialAbort = abort;
    dialFirst(this.ctx.network, this.urls, this.ctx.config.dialTimeoutMs, abort.signal).then(
      ({ socket, url }) => {
        if (this.dialAbort !== abort) {
          socket.destroy();
          return;
        }
        this.dialAbort = undefined;
        this.handshake(socket, url);
      },
      (err: unknown) => {
        if (this.dialAbort !== abort) return;
        this.dialAbort = undefined;
        this.failed(`dial failed: ${(err as Error).message}`, false);
      },
    );
  }

  private handshake(socket: Socket, url: PeerUrl): void {
    // Events of a connection this peer has since abandoned (closed, replaced) are ignored.
    const conn: FramedSocket = new FramedSocket(socket, MAX_HANDSHAKE_BYTES, {
      onFrame: (frame) => {
        if (conn === this.conn) this.onFrame(conn, frame);
      },
      onClose: (err) => {
        if (conn === this.conn) this.onConnClose(err);
      },
      onDrain: () => {
        if (conn !== this.conn) return;
        this.clearStallTimer();
        this.scheduleFlush();
      },
    });
    this.state = 'handshaking';
    this.conn = conn;
    this.connUrl = url;
    conn.write(
      FrameKind.Hello,
      encodeHello({ version: PROTOCOL_VERSION, kind: 'stream', from: this.ctx.selfId, to: this.id, clusterId: this.ctx.clusterId }),
    );
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = undefined;
      conn.destroy(new TransportError('TIMEOUT', `no answer to the handshake within ${this.ctx.config.handshakeTimeoutMs} ms`));
    }, this.ctx.config.handshakeTimeoutMs);
  }

  private onFrame(conn: FramedSocket, frame: Frame): void {
    try {
      if (this.state === 'handshaking' && frame.kind === FrameKind.Welcome) {
        const welcome = decodeWelcome(frame.body);
        if (welcome.version !== PROTOCOL_VERSION || welcome.listenerId !== this.id) {
          throw new CodecError(`welcome from member ${idHex(welcome.listenerId)} speaking version ${welcome.version}`);
        }
        this.opened();
      } else if (this.state === 'handshaking' && frame.kind === FrameKind.Reject) {
        const { code, reason } = decodeReject(frame.body);
        conn.destroy(new TransportError('HANDSHAKE_REJECTED', `rejected by peer: ${code}: ${reason}`));
      } else {
        // The listener sends nothing after its Welcome.
        throw new CodecError(`unexpected frame kind ${frame.kind} in state ${this.state}`);
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      conn.destroy(new TransportError('PROTOCOL', err.message, { cause: err }));
    }
  }

  private opened(): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.state = 'open';
    this.backoff.reset();
    if (this.everOpened) this.stats.reconnects++;
    this.everOpened = true;
    this.down = false;
    this.lastFailure = '';
    this.stats.active = true;
    this.ctx.logger.info('transport: stream to peer established', { peer: idHex(this.id), url: this.connUrl?.text });
    this.ctx.peerStatus(this.id, true);
    this.scheduleFlush();
  }

  private onConnClose(err: Error | undefined): void {
    const wasOpen = this.state === 'open';
    this.conn = undefined;
    this.connUrl = undefined;
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (this.flushImmediate !== undefined) clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    this.clearStallTimer();
    if (this.state === 'closed') return;
    const why = err?.message ?? 'closed by peer';
    this.failed(wasOpen ? `stream lost: ${why}` : `handshake failed: ${why}`, wasOpen);
  }

  private failed(reason: string, wasOpen: boolean): void {
    assert(this.state !== 'closed', 'transport: failure after close');
    if (wasOpen) {
      this.stats.active = false;
      this.ctx.peerStatus(this.id, false);
    } else {
      this.stats.dialFailures++;
    }
    const fields = { peer: idHex(this.id), reason };
    if (reason !== this.lastFailure) this.ctx.logger.warn('transport: peer unreachable', fields);
    else this.ctx.logger.debug('transport: peer still unreachable', fields);
    this.lastFailure = reason;
    this.down = true;
    this.reportUnreachable();
    this.state = 'waiting';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, this.backoff.next());
  }

  private reportUnreachable(): void {
    if (this.unreachableGate.tryPass(Date.now())) this.ctx.reportUnreachable(this.id);
  }

  // Batching: sends only queue and schedule; the flush on a later turn (setImmediate, or the
  // socket's 'drain') takes everything queued meanwhile into as few frames as the byte limit allows.
  private scheduleFlush(): void {
    if (this.state !== 'open' || this.flushImmediate !== undefined) return;
    if (this.queue.length === 0) return;
    if (this.conn === undefined || this.conn.needsDrain) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  private flush(): void {
    const conn = this.conn;
    if (this.state !== 'open' || conn === undefined) return;
    for (let i = 0; i < MAX_FRAMES_PER_FLUSH; i++) {
      const batch = this.buildBatch();
      this.stats.queued = this.queue.length;
      if (batch === undefined) return;
      const ok = conn.writeFrame(batch.frame);
      this.stats.framesSent++;
      this.stats.messagesSent += batch.count;
      this.stats.bytesSent += batch.frame.length;
      // 'drain' schedules the next flush; a peer that never drains is cut off.
      if (!ok) {
        this.armStallTimer(conn);
        return;
      }
    }
    this.scheduleFlush();
  }

  private armStallTimer(conn: FramedSocket): void {
    if (this.stallTimer !== undefined) return;
    const ms = this.ctx.config.writeTimeoutMs;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      conn.destroy(new TransportError('TIMEOUT', `peer accepted no data for ${ms} ms`));
    }, ms);
  }

  private clearStallTimer(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /**
   * Takes messages from the queue while the batch stays within maxBatchBytes (at least one
   * message per frame) and writes them, each measured first and then encoded in place, into one
   * frame buffer. A message too large for any frame the peer accepts is dropped here: sending it
   * would only get the connection closed.
   */
  private buildBatch(): { frame: Buffer; count: number } | undefined {
    const { maxBatchBytes, maxFrameBytes } = this.ctx.config;
    const codec = this.ctx.codec;
    const msgs: PeerMessage[] = [];
    let bytes = 0;
    // Bounded by the queue's length.
    for (let m = this.queue.peek(); m !== undefined; m = this.queue.peek()) {
      const size = codec.encodedBytes(m);
      if (size + 5 > maxFrameBytes) {
        this.queue.shift();
        this.stats.drops++;
        this.ctx.logger.error('transport: message larger than the frame limit dropped', { peer: idHex(this.id), bytes: size, maxFrameBytes });
        this.reportUnreachable();
        continue;
      }
      if (msgs.length > 0 && bytes + size > maxBatchBytes) break;
      this.queue.shift();
      msgs.push(m);
      bytes += size;
    }
    if (msgs.length === 0) return undefined;
    const head = arrayHeaderBytes(msgs.length);
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + head.length + bytes);
    writeFrameHeader(frame, 0, FrameKind.Batch, head.length + bytes);
    frame.set(head, FRAME_HEADER_BYTES);
    let offset = FRAME_HEADER_BYTES + head.length;
    for (const m of msgs) offset = codec.encodeInto(m, frame, offset);
    assert(offset === frame.length, 'transport: a message encoded to other than its measured size');
    return { frame, count: msgs.length };
  }
}
