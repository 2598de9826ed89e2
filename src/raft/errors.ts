/**
 * Errors the Raft core reports to its caller. They are expected conditions (not programmer
 * errors), each with a stable code; the server maps them onto the wire catalog.
 */
export type RaftErrorCode =
  /** The proposal was not accepted: no leader is known, a leadership transfer is under way,
   * a configuration change is already pending, or this member is not a voter. */
  | 'ProposalDropped'
  /** The requested index is older than the storage's first index. */
  | 'Compacted'
  /** The requested entries are not (yet) in the storage. */
  | 'Unavailable'
  /** The storage cannot produce a snapshot right now; raft will retry later. */
  | 'SnapshotTemporarilyUnavailable'
  /** The snapshot is older than the storage's current one. */
  | 'SnapOutOfDate'
  /** An argument is out of range (e.g. transferring leadership to a non-member). */
  | 'InvalidArgument';

export class RaftError extends Error {
  override readonly name = 'RaftError';
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const errProposalDropped = (why: string): RaftError => new RaftError('ProposalDropped', `raft proposal dropped: ${why}`);
export const errCompacted = (): RaftError => new RaftError('Compacted', 'requested index is unavailable due to compaction');
export const errUnavailable = (): RaftError => new RaftError('Unavailable', 'requested entry at index is unavailable');
export const errSnapOutOfDate = (): RaftError => new RaftError('SnapOutOfDate', 'requested index is older than the existing snapshot');
