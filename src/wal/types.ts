/**
 * The shapes the WAL stores. They are structural copies of raft's Entry and HardState (src/wal
 * may not import src/raft), so the server hands raft's objects straight in and gets objects back
 * that raft accepts.
 */

/** One raft log entry; `type` is raft's EntryType (Normal = 0, ConfChange = 1). */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** Raft's durable vote state: term, who we voted for in it (0n = nobody), commit index. */
export interface HardState {
  readonly term: number;
  readonly vote: bigint;
  readonly commit: number;
}

/**
 * "A snapshot at (index, term) exists": written after the snapshot file is durable, so on restart
 * the WAL can be replayed from a snapshot it knows about. {0, 0} is written at creation and stands
 * for "the empty initial state".
 */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: 0n, commit: 0 });
export const ZERO_MARKER: SnapshotMarker = Object.freeze({ index: 0, term: 0 });
