/**
 * The receiving end of one snapshot connection, after the handshake:
 *
 *   SnapshotHeader → onSnapshot(header, body) starts; SnapshotChunk* → body; SnapshotEnd → body ends
 *   onSnapshot resolves (and the End has arrived) → SnapshotAck [true, ''] → close
 *   onSnapshot rejects (at any point)              → SnapshotAck [false, reason] → close
 *   connection lost before the ack                 → the body throws; the outcome is only logged
 *
 * An ack of success is sent only after the End frame, so "acknowledged" always means the whole
 * body arrived and onSnapshot finished with it. While the body waits for a slow consumer the
 * socket is paused, and the idle timeout is off (the sender is not the one being slow).
 */
import type { Logger } from '../util/logger.js';
import { CodecError, decodeSnapshotHeader, encodeAck } from './codec.js';
import { ChunkStream } from './chunk-stream.js';
import type { TransportConfig } from './config.js';
import { TransportError } from './errors.js';
import { FrameKind, type Frame } from './frame.js';
import type { FramedSocket } from './framed-socket.js';
import { idHex, type PeerStats, type SnapshotInfo } from './types.js';

/**
 * What a SnapshotReceiver needs from the Transport: the part of inbound.ts's InboundContext
 * about snapshots. It is declared here, not imported from inbound.ts, so that inbound.ts
 * depends on this file and not the other way round.
 */
export interface SnapshotReceiverContext {
  readonly config: TransportConfig;
  readonly logger: Logger;
  statsOf(id: bigint): PeerStats | undefined;
  onSnapshot(header: object, body: AsyncIterable<Uint8Array>, info: SnapshotInfo): Promise<void>;
}

type ReceiveState = 'header' | 'body' | 'ended' | 'done';

export class SnapshotReceiver {
  private state: ReceiveState = 'header';
  private body: ChunkStream | undefined;
  /** onSnapshot resolved; the ack waits for the End frame. */
  private handlerSucceeded = false;
  private bytes = 0;
  private readonly onTimeout = (): void => {
    this.conn.destroy(new TransportError('TIMEOUT', `snapshot stream idle for ${this.ctx.config.snapshotIdleTimeoutMs} ms`));
  };

  constructor(
    private readonly ctx: SnapshotReceiverContext,
    private readonly conn: FramedSocket,
    private readonly from: bigint,
  ) {
    conn.socket.on('timeout', this.onTimeout);
    this.setIdleTimer(true);
  }

  onFrame(frame: Frame): void {
    // After the ack the sender may still have chunks in flight; they mean nothing now.
    if (this.state === 'done') return;
    if (this.state === 'header' && frame.kind === FrameKind.SnapshotHeader) {
      this.start(decodeSnapshotHeader(frame.body));
    } else if (this.state === 'body' && frame.kind === FrameKind.SnapshotChunk) {
      this.bytes += frame.body.length;
      const stats = this.ctx.statsOf(this.from);
      if (stats !== undefined) stats.snapshotBytesReceived += frame.body.length;
      this.body?.push(frame.body);
    } else if (this.state === 'body' && frame.kind === FrameKind.SnapshotEnd) {
      this.state = 'ended';
      this.setIdleTimer(false);
      this.body?.end();
      if (this.handlerSucceeded) this.ack(true, '');
    } else {
      throw new CodecError(`unexpected frame kind ${frame.kind} in snapshot state ${this.state}`);
    }
  }

  connectionClosed(err: Error | undefined): void {
    this.setIdleTimer(false);
    this.conn.socket.off('timeout', this.onTimeout);
    if (this.state === 'done') return;
    const was = this.state;
    this.state = 'done';
    const reason = err?.message ?? 'closed by sender';
    this.body?.fail(new TransportError('CONNECTION_CLOSED', `transport: snapshot connection lost: ${reason}`, { cause: err }));
    const stats = this.ctx.statsOf(this.from);
    if (stats !== undefined) stats.snapshotsReceiveFailed++;
    this.ctx.logger.warn('transport: snapshot from peer failed', { peer: idHex(this.from), state: was, bytes: this.bytes, reason });
  }

  private start(header: object): void {
    this.state = 'body';
    this.body = new ChunkStream(this.ctx.config.snapshotBufferBytes, (paused) => {
      if (paused) this.conn.pause();
      else this.conn.resume();
      // Paused means our consumer is slow, not the sender: no idle timeout meanwhile.
      if (this.state === 'body') this.setIdleTimer(!paused);
    });
    this.ctx.logger.info('transport: receiving snapshot from peer', { peer: idHex(this.from) });
    let outcome: Promise<void>;
    try {
      outcome = this.ctx.onSnapshot(header, this.body, { from: this.from });
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(
      () => this.handlerDone(undefined),
      (err: unknown) => this.handlerDone(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private handlerDone(err: Error | undefined): void {
    if (this.state === 'done') {
      if (err !== undefined) this.ctx.logger.debug('transport: onSnapshot failed after the connection was lost', { peer: idHex(this.from), error: err.message });
      return;
    }
    if (err !== undefined) {
      this.ack(false, err.message);
      return;
    }
    this.handlerSucceeded = true;
    if (this.state === 'ended') {
      this.ack(true, '');
    } else {
      // onSnapshot is done with the body before its end: discard the rest, then acknowledge.
      this.body?.abandon();
    }
  }

  private ack(ok: boolean, reason: string): void {
    const was = this.state;
    this.state = 'done';
    this.setIdleTimer(false);
    if (!ok) this.body?.fail(new TransportError('SNAPSHOT_REJECTED', reason));
    const stats = this.ctx.statsOf(this.from);
    if (stats !== undefined) {
      if (ok) stats.snapshotsReceived++;
      else stats.snapshotsReceiveFailed++;
    }
    const fields = { peer: idHex(this.from), bytes: this.bytes, ...(ok ? {} : { reason, state: was }) };
    if (ok) this.ctx.logger.info('transport: snapshot from peer received', fields);
    else this.ctx.logger.warn('transport: snapshot from peer refused by onSnapshot', fields);
    this.conn.write(FrameKind.SnapshotAck, encodeAck(ok, reason));
    this.conn.end(this.ctx.config.lingerMs);
  }

  private setIdleTimer(on: boolean): void {
    this.conn.socket.setTimeout(on ? this.ctx.config.snapshotIdleTimeoutMs : 0);
  }
}
