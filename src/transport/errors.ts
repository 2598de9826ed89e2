/**
 * Expected transport failures, each with a stable code (programmer errors are assertions
 * instead). Only `sendSnapshot` rejects with these: message sends never throw for a peer that is
 * down, they drop and report the peer unreachable, because raft retries on its own schedule.
 */
export type TransportErrorCode =
  /** sendSnapshot to a member that addPeer never added (or removePeer removed). */
  | 'UNKNOWN_PEER'
  /** The transport was stopped, or the peer removed, while the operation ran. */
  | 'STOPPED'
  /** No URL of the peer accepted a connection within the dial timeout. */
  | 'DIAL_FAILED'
  /** The peer answered the handshake with a rejection (wrong cluster, unknown member, ...). */
  | 'HANDSHAKE_REJECTED'
  /** The connection closed before the operation finished. */
  | 'CONNECTION_CLOSED'
  /** The peer spoke something other than this protocol. */
  | 'PROTOCOL'
  /** No progress within the configured time. */
  | 'TIMEOUT'
  /** The receiver's onSnapshot failed; the message carries its reason. */
  | 'SNAPSHOT_REJECTED'
  /** Already maxSnapshotSends snapshots in flight; raft retries at its next snapshot attempt. */
  | 'BUSY'
  /** A peer URL this transport cannot use. */
  | 'BAD_URL';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
