import type { Entry, MemoryStorage, Ready } from '../../../src/raft/index.js';

/**
 * A node's raft log as the checks see it when a Ready is taken: the durable storage with the
 * Ready's snapshot and entries laid over it. Since a Ready is always fully persisted (or the node
 * crashed) before the next one is taken, this is exactly the log raft holds at that moment.
 *
 * Example: storage holds 1..8 (snapshot at 1) and the Ready carries entries 7..9 of a new term:
 * firstIndex() = 2, lastIndex() = 9, and term(7) is the Ready's entry's term, not the stored one.
 */
export class LogView {
  private readonly snapIndex: number;
  private readonly snapTerm: number;
  private readonly overlayFrom: number;

  constructor(
    private readonly storage: MemoryStorage,
    private readonly rd?: Pick<Ready, 'snapshot' | 'entries'>,
  ) {
    const snap = rd?.snapshot;
    if (snap !== undefined && snap.metadata.index > storage.firstIndex() - 1) {
      this.snapIndex = snap.metadata.index;
      this.snapTerm = snap.metadata.term;
    } else {
      this.snapIndex = storage.firstIndex() - 1;
      this.snapTerm = storage.term(this.snapIndex);
    }
    const first = rd?.entries[0];
    this.overlayFrom = first === undefined ? Infinity : first.index;
  }

  /** Replacing the stored log by a snapshot drops every stored entry. */
  private get storedLast(): number {
    return this.snapIndex > this.storage.firstIndex() - 1 ? this.snapIndex : this.storage.lastIndex();
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    const ents = this.rd?.entries;
    const last = ents !== undefined && ents.length > 0 ? (ents[ents.length - 1] as Entry).index : 0;
    return Math.max(last, this.overlayFrom === Infinity ? this.storedLast : Math.min(this.storedLast, this.overlayFrom - 1));
  }

  /** The term at i for i in [firstIndex-1, lastIndex], else undefined. */
  term(i: number): number | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    return this.entry(i)?.term;
  }

  /** The entry at i for i in [firstIndex, lastIndex], else undefined. */
  entry(i: number): Entry | undefined {
    if (i <= this.snapIndex) return undefined;
    if (i >= this.overlayFrom) {
      const ents = this.rd?.entries ?? [];
      return ents[i - this.overlayFrom];
    }
    if (i > this.storedLast) return undefined;
    return this.storage.entries(i, i + 1, Number.MAX_SAFE_INTEGER)[0];
  }
}
