/**
 * The sending end of one snapshot, on its own connection so a large body never delays the
 * stream's heartbeats:
 *
 *   dial → Hello('snapshot') → Welcome → SnapshotHeader → SnapshotChunk* → SnapshotEnd → wait for SnapshotAck
 *
 * Backpressure: the body is pulled one chunk at a time, and after a write that fills the socket's
 * buffer nothing more is pulled until 'drain'. Every wait races the connection's failure (close,
 * an early negative ack, stop/removePeer) and a timeout: no progress for snapshotIdleTimeoutMs
 * while streaming, or no ack within snapshotAckTimeoutMs after the end.
 */
import { assert } from '../util/assert.js';
import { CodecError, MAX_HANDSHAKE_BYTES, PROTOCOL_VERSION, decodeAck, decodeReject, decodeWelcome, encodeHello, encodeSnapshotHeader } from './codec.js';
import type { TransportConfig } from './config.js';
import { TransportError } from './errors.js';
import { FrameKind, type Frame } from './frame.js';
import { FramedSocket } from './framed-socket.js';
import { dialFirst, type Network } from './network.js';
import type { PeerUrl } from './peer-url.js';
import { idHex, type PeerStats } from './types.js';

export interface SnapshotSendContext {
  readonly selfId: bigint;
  readonly clusterId: bigint;
  readonly config: TransportConfig;
  readonly network: Network;
}

export class SnapshotSend {
  private conn: FramedSocket | undefined;
  private welcomed = false;
  private ack: { ok: boolean; reason: string } | undefined;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private rejectFailed!: (err: Error) => void;
  /** Re-checks the condition of the wait in progress (on frames, drain, close). */
  private poke: (() => void) | undefined;
  bytesSent = 0;

  constructor(
    private readonly ctx: SnapshotSendContext,
    readonly to: bigint,
    private readonly urls: readonly PeerUrl[],
    private readonly stats: PeerStats,
    private readonly signal: AbortSignal,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    // Awaited only through races; an unobserved rejection here is expected.
    this.failed.catch(() => {});
  }

  async run(header: object, body: AsyncIterable<Uint8Array>): Promise<void> {
    const iterator = body[Symbol.asyncIterator]();
    const onAbort = (): void => this.fail(new TransportError('STOPPED', `transport: snapshot to ${idHex(this.to)} aborted`));
    this.signal.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      if (this.signal.aborted) onAbort();
      await this.race(this.connect());
      const conn = this.conn;
      assert(conn !== undefined, 'transport: snapshot connection missing after the handshake');
      conn.write(FrameKind.SnapshotHeader, encodeSnapshotHeader(header));
      const { snapshotChunkBytes, snapshotIdleTimeoutMs, snapshotAckTimeoutMs } = this.ctx.config;
      // Bounded by the body: one iteration per chunk the caller produces.
      for (;;) {
        const next = await this.race(iterator.next());
        if (next.done === true) break;
        const chunk = next.value;
        assert(chunk instanceof Uint8Array, 'transport: a snapshot body must yield Uint8Arrays');
        for (let offset = 0; offset < chunk.length; offset += snapshotChunkBytes) {
          const piece = chunk.subarray(offset, offset + snapshotChunkBytes);
          const ok = conn.write(FrameKind.SnapshotChunk, piece);
          this.bytesSent += piece.length;
          this.stats.snapshotBytesSent += piece.length;
          if (!ok) await this.waitFor(() => !conn.needsDrain, snapshotIdleTimeoutMs, 'waiting for the receiver to read');
        }
      }
      finished = true;
      conn.write(FrameKind.SnapshotEnd);
      await this.waitFor(() => this.ack !== undefined, snapshotAckTimeoutMs, 'waiting for the acknowledgement');
      const ack = this.ack;
      assert(ack !== undefined, 'transport: snapshot ack missing');
      if (!ack.ok) throw new TransportError('SNAPSHOT_REJECTED', `transport: peer ${idHex(this.to)} failed the snapshot: ${ack.reason}`);
      this.conn?.end(this.ctx.config.lingerMs);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      throw this.failure;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      if (!finished) {
        // Lets the producer release what it holds (a file, a LevelDB iterator). Not awaited: a
        // generator that is still busy only runs its cleanup once its pending step finishes.
        iterator.return?.().catch(() => {});
      }
    }
  }

  private async connect(): Promise<void> {
    const { socket } = await dialFirst(this.ctx.network, this.urls, this.ctx.config.dialTimeoutMs, this.signal);
    if (this.failure !== undefined) {
      socket.destroy();
      throw this.failure;
    }
    this.conn = new FramedSocket(socket, MAX_HANDSHAKE_BYTES, {
      onFrame: (frame) => this.onFrame(frame),
      onClose: (err) => {
        this.fail(
          new TransportError('CONNECTION_CLOSED', `transport: snapshot connection to ${idHex(this.to)} closed: ${err?.message ?? 'by peer'}`, {
            cause: err,
          }),
        );
      },
      onDrain: () => this.poke?.(),
    });
    this.conn.write(
      FrameKind.Hello,
      encodeHello({ version: PROTOCOL_VERSION, kind: 'snapshot', from: this.ctx.selfId, to: this.to, clusterId: this.ctx.clusterId }),
    );
    await this.waitFor(() => this.welcomed, this.ctx.config.handshakeTimeoutMs, 'waiting for the handshake');
  }

  private onFrame(frame: Frame): void {
    try {
      if (!this.welcomed && frame.kind === FrameKind.Welcome) {
        const w = decodeWelcome(frame.body);
        if (w.version !== PROTOCOL_VERSION || w.listenerId !== this.to) throw new CodecError(`welcome from member ${idHex(w.listenerId)}`);
        this.welcomed = true;
      } else if (!this.welcomed && frame.kind === FrameKind.Reject) {
        const { code, reason } = decodeReject(frame.body);
        this.fail(new TransportError('HANDSHAKE_REJECTED', `transport: peer ${idHex(this.to)} rejected the snapshot connection: ${code}: ${reason}`));
      } else if (this.welcomed && this.ack === undefined && frame.kind === FrameKind.SnapshotAck) {
        this.ack = decodeAck(frame.body);
        // A negative ack may come early (onSnapshot failed mid-body): stop streaming at once.
        if (!this.ack.ok) this.fail(new TransportError('SNAPSHOT_REJECTED', `transport: peer ${idHex(this.to)} failed the snapshot: ${this.ack.reason}`));
      } else {
        throw new CodecError(`unexpected frame kind ${frame.kind} on a snapshot connection`);
      }
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.fail(new TransportError('PROTOCOL', `transport: peer ${idHex(this.to)}: ${err.message}`, { cause: err }));
    }
    this.poke?.();
  }

  /** The first failure wins; it closes the connection and wakes whatever is waiting. */
  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.rejectFailed(err);
    this.conn?.destroy(err);
    this.poke?.();
  }

  private race<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.failed]);
  }

  private waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.poke = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      const timer = setTimeout(() => {
        this.fail(new TransportError('TIMEOUT', `transport: snapshot to ${idHex(this.to)}: no progress for ${timeoutMs} ms ${what}`));
      }, timeoutMs);
      this.poke = () => {
        if (this.failure !== undefined) done(this.failure);
        else if (cond()) done();
      };
    });
  }
}
