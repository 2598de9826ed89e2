/**
 * Expected WAL failures, each with a stable code (programmer errors are assertions instead).
 * The server decides what to do with them: a corrupt WAL or a failed fsync means this member must
 * not serve, which it reports rather than papering over.
 */
export type WalErrorCode =
  /** A record that later valid records depend on is damaged: refuse to start. */
  | 'WAL_CORRUPT'
  /** No segment files in the directory. */
  | 'WAL_NOT_FOUND'
  /** Wal.create on a directory that already holds segments. */
  | 'WAL_EXISTS'
  /** Wal.open was asked to replay from a snapshot marker the WAL does not contain. */
  | 'WAL_SNAPSHOT_NOT_FOUND'
  /** The entries after the requested snapshot have a gap (segments released too far, or lost). */
  | 'WAL_MISSING_ENTRIES'
  /** An earlier write or fsync failed: nothing written since may be assumed durable. */
  | 'WAL_POISONED'
  /** save() after close(). */
  | 'WAL_CLOSED'
  /** A snapshot file failed its checks. */
  | 'SNAP_CORRUPT'
  /** No usable snapshot file. */
  | 'SNAP_NOT_FOUND';

export class WalError extends Error {
  override readonly name = 'WalError';
  constructor(
    readonly code: WalErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Corruption at a known place: the message and fields name the file and byte offset. */
export class WalCorruptError extends WalError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super('WAL_CORRUPT', `wal: corrupt record in ${file} at byte offset ${offset}: ${reason}`);
  }
}
