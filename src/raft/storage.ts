import { assert } from '../util/assert.js';
import { errCompacted, errSnapOutOfDate, errUnavailable } from './errors.js';
import {
  EMPTY_HARD_STATE,
  EntryType,
  entrySize,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from './types.js';

/**
 * What raft reads of the durable log. Raft never writes through this interface: the application
 * persists what a Ready hands it, then makes it visible here, so everything raft reads from
 * Storage is durable.
 *
 * The log in storage is: a snapshot covering [1, firstIndex-1], then entries
 * [firstIndex, lastIndex]. term(firstIndex-1) is the snapshot's term.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one (if lo < hi) and then up to maxBytes in total. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of the entry at i, for i in [firstIndex-1, lastIndex]. */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** Cut a list of entries down to maxBytes, always keeping the first one. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * An in-memory Storage for tests and the simulation. `ents[0]` is a dummy entry holding the
 * snapshot's index and term, so that term(firstIndex-1) needs no special case.
 *
 * Example: after applySnapshot(index 10, term 3) and append([11@3, 12@4]):
 *   ents = [{10,3,dummy}, {11,3}, {12,4}]; firstIndex() = 11, lastIndex() = 12, term(10) = 3.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw errCompacted();
    if (hi > this.lastIndex() + 1) throw errUnavailable();
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) throw errCompacted();
    if (i - offset >= this.ents.length) throw errUnavailable();
    return (this.ents[i - offset] as Entry).term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Start a fresh cluster: every initial member records the same configuration as a snapshot at
   * index 1, term 1, so all logs begin with an identical, already-committed prefix. A member added
   * later starts empty and receives a snapshot from the leader.
   */
  bootstrap(confState: ConfState): void {
    assert(this.lastIndex() === 0 && this.snap.metadata.index === 0, 'bootstrap: storage is not empty');
    assert(confState.voters.length > 0, 'bootstrap: no voters');
    this.applySnapshot({ metadata: { index: 1, term: 1, confState }, data: new Uint8Array(0) });
    this.hardState = { term: 1, vote: 0n, commit: 1 };
  }

  /** Replace the whole log with a snapshot (a follower receiving one). */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) throw errSnapOutOfDate();
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: new Uint8Array(0) }];
  }

  /**
   * Record a snapshot of the state machine at index i (i <= lastIndex) without dropping
   * entries; call compact() afterwards to release them.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw errSnapOutOfDate();
    assert(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = { metadata: { index: i, term: this.term(i), confState }, data };
    return this.snap;
  }

  /** Drop the entries before compactIndex (compactIndex becomes the dummy entry). */
  compact(compactIndex: number): void {
    const offset = this.offset();
    if (compactIndex <= offset) throw errCompacted();
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const head = this.ents[i] as Entry;
    this.ents = [{ term: head.term, index: head.index, type: EntryType.Normal, data: new Uint8Array(0) }, ...this.ents.slice(i + 1)];
  }

  /**
   * Append entries, truncating any conflicting suffix: entries at indexes already present are
   * replaced along with everything after them. Entries older than the snapshot are ignored.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = (entries[0] as Entry).index + entries.length - 1;
    if (last < first) return;
    const ents = first > (entries[0] as Entry).index ? entries.slice(first - (entries[0] as Entry).index) : entries;
    const at = (ents[0] as Entry).index - this.offset();
    assert(at <= this.ents.length, `missing log entry [last: ${this.lastIndex()}, append at: ${(ents[0] as Entry).index}]`);
    // In place: an append costs what it appends (and what it truncates), not a copy of the whole
    // log, which grows to --snapshot-count entries between snapshots. entries() hands out
    // copies, so nobody else holds this array.
    this.ents.length = at;
    for (const e of ents) this.ents.push(e);
  }

  private offset(): number {
    return (this.ents[0] as Entry).index;
  }
}
