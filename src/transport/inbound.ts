/**
 * One accepted connection: it must open with a Hello naming this cluster, this member and a
 * known peer, within the handshake timeout; a stream then carries batches to onMessages, a
 * snapshot connection carries one snapshot (snapshot-receiver.ts).
 *
 * A peer that breaks the protocol (malformed body, oversized frame, a frame out of place) is
 * disconnected with a logged error; the member goes on. A refused handshake is answered with a
 * Reject frame naming the reason, so the dialer can log why instead of guessing.
 */
import type { Socket } from 'node:net';
import { CodecError, MAX_HANDSHAKE_BYTES, PROTOCOL_VERSION, decodeBatch, decodeHello, encodeReject, encodeWelcome, type Hello, type RejectCode } from './codec.js';
import { TransportError } from './errors.js';
import { FrameError, FrameKind, type Frame } from './frame.js';
import { FramedSocket } from './framed-socket.js';
import { SnapshotReceiver, type SnapshotReceiverContext } from './snapshot-receiver.js';
import { idHex, type MessageCodec, type PeerMessage } from './types.js';

/** What an InboundConnection needs from its Transport (the snapshot part is handed on to its SnapshotReceiver). */
export interface InboundContext extends SnapshotReceiverContext {
  readonly selfId: bigint;
  readonly clusterId: bigint;
  readonly codec: MessageCodec;
  isPeer(id: bigint): boolean;
  onMessages(msgs: PeerMessage[]): void;
  /** A stream from `conn.from` was accepted (the transport closes an older one from the same peer). */
  streamAccepted(conn: InboundConnection): void;
  closed(conn: InboundConnection): void;
  countRejected(): void;
  countProtocolError(): void;
}

type InboundState = 'handshake' | 'stream' | 'snapshot' | 'closed';

export class InboundConnection {
  private state: InboundState = 'handshake';
  private readonly conn: FramedSocket;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private snapshot: SnapshotReceiver | undefined;
  /** The peer, once the handshake is accepted (0n before). */
  from = 0n;
  readonly remote: string;

  constructor(
    private readonly ctx: InboundContext,
    socket: Socket,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.conn = new FramedSocket(socket, MAX_HANDSHAKE_BYTES, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (err) => this.onClose(err),
    });
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = undefined;
      this.ctx.countRejected();
      this.ctx.logger.warn('transport: peer connection sent no handshake', { remote: this.remote, timeoutMs: ctx.config.handshakeTimeoutMs });
      this.conn.destroy(new TransportError('TIMEOUT', 'no handshake'));
    }, ctx.config.handshakeTimeoutMs);
  }

  get kind(): 'stream' | 'snapshot' | undefined {
    return this.state === 'stream' || this.state === 'snapshot' ? this.state : undefined;
  }

  /** Closes at once (stop, removePeer, a newer stream from the same peer). */
  close(reason: string): void {
    this.conn.destroy(new TransportError('STOPPED', reason));
  }

  private onFrame(frame: Frame): void {
    try {
      switch (this.state) {
        case 'handshake':
          if (frame.kind !== FrameKind.Hello) throw new CodecError(`expected a Hello frame, got kind ${frame.kind}`);
          this.onHello(frame.body);
          return;
        case 'stream':
          if (frame.kind !== FrameKind.Batch) throw new CodecError(`unexpected frame kind ${frame.kind} on a stream`);
          this.onBatch(frame.body);
          return;
        case 'snapshot':
          this.snapshot?.onFrame(frame);
          return;
        case 'closed':
          return;
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      if (this.state === 'handshake') this.reject('MALFORMED', err.message);
      else this.protocolError(err);
    }
  }

  private onHello(body: Uint8Array): void {
    const decoded = decodeHello(body);
    if ('unsupportedVersion' in decoded) {
      this.reject('PROTOCOL_VERSION', `peer speaks protocol version ${decoded.unsupportedVersion}, this member speaks ${PROTOCOL_VERSION}`);
      return;
    }
    const hello: Hello = decoded.hello;
    const { selfId, clusterId } = this.ctx;
    if (hello.clusterId !== clusterId) {
      this.reject('CLUSTER_ID_MISMATCH', `peer's cluster id ${idHex(hello.clusterId)} does not match this member's cluster id ${idHex(clusterId)}`, hello.from);
      return;
    }
    if (hello.to !== selfId) {
      this.reject('WRONG_MEMBER', `this is member ${idHex(selfId)}, not ${idHex(hello.to)}`, hello.from);
      return;
    }
    if (!this.ctx.isPeer(hello.from)) {
      this.reject('UNKNOWN_MEMBER', `member ${idHex(hello.from)} is not a peer of member ${idHex(selfId)}`, hello.from);
      return;
    }
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.from = hello.from;
    this.conn.write(FrameKind.Welcome, encodeWelcome(selfId));
    this.conn.setMaxBodyBytes(this.ctx.config.maxFrameBytes);
    if (hello.kind === 'stream') {
      this.state = 'stream';
      this.ctx.logger.info('transport: stream from peer accepted', { peer: idHex(this.from), remote: this.remote });
      this.ctx.streamAccepted(this);
    } else {
      this.state = 'snapshot';
      this.snapshot = new SnapshotReceiver(this.ctx, this.conn, hello.from);
    }
  }

  private onBatch(body: Uint8Array): void {
    const msgs = decodeBatch(body, this.ctx.selfId, this.from, this.ctx.codec);
    const stats = this.ctx.statsOf(this.from);
    if (stats !== undefined) {
      stats.framesReceived++;
      stats.messagesReceived += msgs.length;
      stats.bytesReceived += body.length + 5;
    }
    this.ctx.onMessages(msgs);
  }

  private reject(code: RejectCode, reason: string, from?: bigint): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.ctx.countRejected();
    this.ctx.logger.warn('transport: rejected peer connection', {
      remote: this.remote,
      ...(from === undefined ? {} : { peer: idHex(from) }),
      code,
      reason,
    });
    this.conn.write(FrameKind.Reject, encodeReject(code, reason));
    this.conn.end(this.ctx.config.lingerMs, new TransportError('HANDSHAKE_REJECTED', reason));
  }

  private protocolError(err: Error): void {
    if (this.state === 'closed' || this.conn.isClosing) return;
    this.ctx.countProtocolError();
    this.ctx.logger.error('transport: peer broke the protocol; closing its connection', {
      remote: this.remote,
      ...(this.from === 0n ? {} : { peer: idHex(this.from) }),
      error: err.message,
    });
    this.conn.destroy(new TransportError('PROTOCOL', err.message, { cause: err }));
  }

  private onClose(err: Error | undefined): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    const was = this.state;
    this.state = 'closed';
    // An oversized or unparsable frame surfaces as the close reason of the FramedSocket.
    if (err instanceof FrameError) {
      this.ctx.countProtocolError();
      this.ctx.logger.error('transport: bad frame from peer; connection closed', {
        remote: this.remote,
        ...(this.from === 0n ? {} : { peer: idHex(this.from) }),
        error: err.message,
      });
    } else if (was === 'stream') {
      this.ctx.logger.info('transport: stream from peer closed', { peer: idHex(this.from), reason: err?.message ?? 'closed by peer' });
    }
    this.snapshot?.connectionClosed(err);
    this.ctx.closed(this);
  }
}
