/**
 * Rebuilding the raft log from entries records, the way raft itself appends: a batch whose first
 * index is at or below the current last index replaces everything from that index on (a new
 * leader overwrote this member's uncommitted tail). Example, replaying from snapshot index 0:
 *
 *   record [1 t1, 2 t1, 3 t1]   log 1..3 (t1)
 *   record [4 t1, 5 t1]         log 1..5 (t1)
 *   record [3 t2]               log 1 t1, 2 t1, 3 t2     (4 and 5 are gone)
 *   record [4 t2]               log 1..4
 *
 * Entries at or below the snapshot's index are already in the snapshot and are not returned; a
 * batch that starts beyond lastIndex + 1 means entries went missing.
 */
import { assert } from '../util/assert.js';
import { WalError } from './errors.js';
import type { Entry, SnapshotMarker } from './types.js';

export class LogReplay {
  /** The log after `from.index`; entries[k].index === from.index + 1 + k. */
  private readonly log: Entry[] = [];
  /**
   * The last index of the whole log as written, whatever `from` is: where the next save must
   * continue (at or below lastIndex + 1). A snapshot marker beyond the log moves it forward (a
   * follower that installed a leader's snapshot continues after it).
   */
  lastIndex = 0;
  /**
   * The first gap found, kept rather than thrown: the caller first checks that `from` is a
   * snapshot the WAL knows, which explains a gap better when it is not.
   */
  private missing: WalError | undefined;

  constructor(private readonly from: SnapshotMarker) {}

  /** Appends one entries record; `where` names the record in errors. */
  append(batch: readonly Entry[], where: string): void {
    const first = batch[0];
    const last = batch[batch.length - 1];
    assert(first !== undefined && last !== undefined, 'wal: empty entries record');
    this.lastIndex = last.index;
    if (this.missing !== undefined) return;
    const from = this.from.index;
    // Everything from `first.index` on is replaced, even when the whole batch is at or below the
    // snapshot: a batch ending at 98 ends the log at 98, so stale entries above the snapshot
    // from before it must go too (a later batch re-supplies the real ones).
    const keep = Math.max(0, first.index - from - 1);
    if (keep > this.log.length) {
      this.missing = new WalError(
        'WAL_MISSING_ENTRIES',
        `wal: entry ${first.index} at ${where} follows ${from + this.log.length}: entries are missing after snapshot ${from}`,
      );
      return;
    }
    this.log.length = keep;
    for (const e of batch) if (e.index > from) this.log.push(e);
    assert(this.log.length === 0 || (this.log[0] as Entry).index === from + 1, 'wal: replayed log does not start after the snapshot');
  }

  marker(m: SnapshotMarker): void {
    if (m.index > this.lastIndex) this.lastIndex = m.index;
  }

  /** The replayed log after the snapshot; throws WAL_MISSING_ENTRIES if it has a gap. */
  entries(): Entry[] {
    if (this.missing !== undefined) throw this.missing;
    return this.log;
  }
}
