import type { Socket } from 'node:net';
/**
 * What the transport carries and what it is handed. It does not import src/raft (the module
 * table forbids it): a message is any msgpackr-encodable object with bigint `to` and `from`,
 * which is structurally what raft's `Message` is. Everything else in it is opaque here.
 */
import type { Logger } from '../util/logger.js';

/** The part of a raft message the transport reads: where it goes and who sent it. */
export interface PeerMessage {
  readonly to: bigint;
  readonly from: bigint;
  readonly type?: string;
}

/**
 * How messages are laid out in a batch frame, each as one msgpack value of the batch's array.
 * The default (codec.ts plainCodec) packs any object with msgpackr as a map; the server passes
 * one that knows raft's messages (src/server/raft-codec.ts).
 */
export interface MessageCodec {
  /** Bytes encodeInto will write for m. */
  encodedBytes(m: PeerMessage): number;
  /** Writes m's encoding at offset (encodedBytes(m) bytes); returns the offset after it. */
  encodeInto(m: PeerMessage, buf: Buffer, offset: number): number;
  /**
   * One element of a received batch as msgpackr decoded it. Throws CodecError when it is not a
   * message; `to` and `from` are checked by the transport afterwards.
   */
  decode(value: unknown): PeerMessage;
}

/** Who sent a snapshot (the handshake's sender id, already checked against the peer set). */
export interface SnapshotInfo {
  readonly from: bigint;
}

export interface TransportOptions {
  /** This member's id; never 0n. */
  readonly id: bigint;
  /** Peers presenting another cluster id in their handshake are refused. */
  readonly clusterId: bigint;
  /** Where to accept peer connections, e.g. `http://127.0.0.1:2380` (port 0 picks a free port). */
  readonly listenPeerUrls: readonly string[];
  /**
   * A batch of messages from one peer, in the order that peer sent them. Called on a socket
   * event, never from inside send(). It must not throw: what it throws is a programmer error and
   * propagates.
   */
  onMessages(msgs: PeerMessage[]): void;
  /**
   * An incoming snapshot: `header` as the sender passed it, `body` the chunks in order. Resolving
   * acknowledges the snapshot to the sender; rejecting (or the body failing because the
   * connection broke) fails the sender's sendSnapshot. The body is buffered only up to
   * `snapshotBufferBytes`: reading slowly slows the sender down.
   */
  onSnapshot(header: object, body: AsyncIterable<Uint8Array>, info: SnapshotInfo): Promise<void>;
  /**
   * The peer could not be reached (connection down, or its queue full and a message dropped).
   * Rate-limited per peer, and always called on a later turn than the send() that caused it, so
   * the caller may step raft from here.
   */
  onUnreachable(id: bigint): void;
  /** The outbound stream to a peer came up (true) or went down (false). */
  onPeerStatus?(id: bigint, active: boolean): void;
  /**
   * A connection to the peer port that opens with an HTTP/1.1 request instead of a handshake
   * (e.g. `GET /members`, which a member joining the cluster asks, as etcd's peers answer). The
   * socket is handed over with its first bytes put back; without this option such a connection
   * is closed as a protocol error.
   */
  onHttp?(socket: Socket): void;
  readonly logger?: Logger;
  /** How messages are encoded in batch frames (default: msgpackr maps, codec.ts plainCodec). */
  readonly codec?: MessageCodec;
  /** Messages queued per peer before new ones are dropped (default 4096, like etcd's stream buffer). */
  readonly queueLimit?: number;
  /** Largest frame body accepted from a peer; a bigger one closes that connection (default 16 MiB). */
  readonly maxFrameBytes?: number;
  /** A batch frame is closed once its messages reach this many bytes (default 1 MiB). */
  readonly maxBatchBytes?: number;
  /** Per URL: how long a TCP connect may take (default 1000 ms). */
  readonly dialTimeoutMs?: number;
  /** How long the peer may take to answer (or send) the handshake (default 2000 ms). */
  readonly handshakeTimeoutMs?: number;
  /**
   * A stream whose socket accepts nothing for this long (the peer stopped reading: hung process,
   * vanished host) is closed and redialed, instead of waiting minutes for TCP to give up (default
   * 5000 ms, etcd's ConnWriteTimeout).
   */
  readonly writeTimeoutMs?: number;
  /** Reconnect backoff bounds (defaults 50 ms and 1000 ms), with jitter. */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** At most one onUnreachable per peer per interval (default 100 ms, about one heartbeat). */
  readonly unreachableIntervalMs?: number;
  /** Snapshot chunk frames carry at most this many bytes (default 256 KiB). */
  readonly snapshotChunkBytes?: number;
  /** Receiver side: body bytes buffered ahead of onSnapshot's reading before the socket pauses (default 1 MiB). */
  readonly snapshotBufferBytes?: number;
  /** Either side: a snapshot stream with no progress for this long fails (default 30 s). */
  readonly snapshotIdleTimeoutMs?: number;
  /** Sender side: how long the receiver's onSnapshot may take after the last chunk (default 5 min). */
  readonly snapshotAckTimeoutMs?: number;
  /** Snapshots being sent at once, to all peers together (default 8); more are refused with BUSY. */
  readonly maxSnapshotSends?: number;
  /** Accepted connections beyond this are closed at once (default 256). */
  readonly maxInboundConnections?: number;
  /** A number in [0, 1) for backoff jitter; tests pass a seeded one (default Math.random). */
  readonly random?: () => number;
}

/** Counters for one peer, both directions. Lower layers expose counters; prom-client lives in server. */
export interface PeerStats {
  messagesSent: number;
  bytesSent: number;
  framesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  framesReceived: number;
  /** Messages dropped because the queue was full or a message was too large to frame. */
  drops: number;
  /** Outbound streams established after the first one. */
  reconnects: number;
  /** Dial or handshake attempts that failed. */
  dialFailures: number;
  snapshotsSent: number;
  snapshotsSendFailed: number;
  snapshotBytesSent: number;
  snapshotsReceived: number;
  snapshotsReceiveFailed: number;
  snapshotBytesReceived: number;
  /** Gauge: messages waiting in the outbound queue. */
  queued: number;
  /** Gauge: the outbound stream is up. */
  active: boolean;
}

export interface TransportStats {
  readonly peers: ReadonlyMap<bigint, Readonly<PeerStats>>;
  /** Messages for a member that is not a peer (unknown `to`). */
  readonly unknownTargetDrops: number;
  /** Inbound connections closed at the handshake (wrong cluster, protocol, unknown member, ...). */
  readonly rejectedConnections: number;
  /** Inbound connections closed for breaking the protocol after the handshake (oversized frame, ...). */
  readonly protocolErrors: number;
}

/** A bound listener, so tests can listen on port 0 and learn the port. */
export interface ListenAddress {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export function emptyPeerStats(): PeerStats {
  return {
    messagesSent: 0,
    bytesSent: 0,
    framesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    framesReceived: 0,
    drops: 0,
    reconnects: 0,
    dialFailures: 0,
    snapshotsSent: 0,
    snapshotsSendFailed: 0,
    snapshotBytesSent: 0,
    snapshotsReceived: 0,
    snapshotsReceiveFailed: 0,
    snapshotBytesReceived: 0,
    queued: 0,
    active: false,
  };
}

/** Member ids are logged in hex, as etcd does. */
export function idHex(id: bigint): string {
  return id.toString(16);
}
