/**
 * The history of one key: its generations, as in etcd's keyIndex (server/storage/mvcc/key_index.go).
 *
 * A generation is one life of a key: it starts with the put that creates the key and ends with
 * the tombstone that deletes it. It records the main revision that created it (`created`), how
 * many changes it has seen (`ver`, counting the tombstone, as etcd's generation.ver does) and the
 * revisions (main, sub) of those changes that compaction has not removed. The last generation is
 * the current one; it is empty when the key is deleted (or was never written).
 *
 * Worked example. Key "foo": put at 1.0, put at 2.0, delete at 3.0, put at 4.0, put at 5.0:
 *
 *   generations  {created 1, ver 3, revs [1.0, 2.0, 3.0(t)]}  {created 4, ver 2, revs [4.0, 5.0]}
 *
 * - get(2) finds the first generation (it started at 1 <= 2, and its tombstone 3 > 2), then the
 *   last revision <= 2 in it, 2.0; version = ver - (revisions after it) = 3 - 1 = 2.
 * - get(3): the first generation's tombstone 3 <= 3 and the second starts at 4 > 3: not found.
 * - get(5): 5.0 in the second generation, version 2 - 0 = 2, created 4.
 *
 * Compaction at rev keeps, per key, the latest revision <= rev unless it is a tombstone, and all
 * revisions after rev (etcd's keyIndex.compact):
 *
 *   compact(2)  {1, 3, [2.0, 3.0(t)]} {4, 2, [4.0, 5.0]}   1.0 is obsolete: get(>=2) never needs it
 *   compact(3)  {4, 2, [4.0, 5.0]}                         the first life ended at 3 <= 3: gone
 *   compact(4)  {4, 2, [4.0, 5.0]}                         4.0 is the latest <= 4: kept
 *   compact(5)  {4, 2, [5.0]}
 *
 * `ver` is never changed by compaction, so versions stay right after revisions are dropped.
 * When the only generation left is the empty current one, the key index is empty and the tree
 * index drops the key.
 *
 * Layout. An index exists per key (a million keys: a million of these), so the generations are
 * one flat number array instead of a graph of objects:
 *
 *   h = [created, ver, n, main_0, sub_0, ..., main_n-1, sub_n-1,  created, ver, n, ...]
 *
 * The example above is h = [1,3,3, 1,0, 2,0, 3,0,  4,2,2, 4,0, 5,0] with `last` = 9 (the offset
 * of the current generation). An empty current generation is [0,0,0].
 *
 * Invariants (asserted where they change):
 * - revisions strictly increase along h, across generations;
 * - every generation but the last is non-empty and ends with its tombstone;
 * - `last` is the offset of the last generation, and the array ends with it.
 */
import { assert } from '../util/index.js';

/** One revision of a key as the index knows it; enough to name its record (keyspace.ts). */
export interface IndexedRevision {
  readonly main: number;
  readonly sub: number;
  /** Main revision that created the generation. */
  readonly created: number;
  /** The key's version at this revision. */
  readonly version: number;
}

const CREATED = 0;
const VER = 1;
const COUNT = 2;
const REVS = 3;

export class KeyIndex {
  private h: number[];
  private last: number;

  private constructor(h: number[], last: number) {
    this.h = h;
    this.last = last;
  }

  /** A key's first put. The array is built at its exact size: most keys are written once. */
  static fromPut(main: number, sub: number): KeyIndex {
    return new KeyIndex([main, 1, 1, main, sub], 0);
  }

  /**
   * A key's first surviving record, when the index is rebuilt from the database (see restore).
   * Its generation may have been created earlier, by a put that compaction removed.
   */
  static fromRecord(main: number, sub: number, created: number, version: number, tombstone: boolean): KeyIndex {
    assert(version >= 1 && created <= main, 'bad record for a key index');
    return tombstone
      ? new KeyIndex([created, version, 1, main, sub, 0, 0, 0], 5)
      : new KeyIndex([created, version, 1, main, sub], 0);
  }

  /** Only an empty current generation is left: the tree index drops the key. */
  isEmpty(): boolean {
    return this.last === 0 && this.at(COUNT) === 0;
  }

  /** Appends a put at (main, sub), starting a new generation if the key is deleted. */
  put(main: number, sub: number): void {
    if (this.at(this.last + COUNT) === 0) this.h[this.last + CREATED] = main;
    this.append(main, sub);
  }

  /** Appends a tombstone at (main, sub), closing the current generation. The key must be live. */
  tombstone(main: number, sub: number): void {
    assert(this.at(this.last + COUNT) > 0, 'tombstone of a key that is not live');
    this.put(main, sub);
    this.last = this.h.length;
    this.h.push(0, 0, 0);
  }

  /**
   * Removes the latest change, which must be (main, sub): a change of a WriteTxn that is rolled
   * back (never committed). Undoing a tombstone reopens the generation it closed; undoing the
   * put that started a generation leaves it empty again.
   */
  undo(main: number, sub: number): void {
    const h = this.h;
    if (this.at(this.last + COUNT) === 0) {
      assert(this.last > 0, 'undo of a change the key index does not hold');
      h.length = this.last;
      let g = 0;
      while (g + REVS + 2 * this.at(g + COUNT) < h.length) g = this.nextGeneration(g);
      this.last = g;
    }
    const g = this.last;
    assert(h.length >= 2 && this.at(h.length - 2) === main && this.at(h.length - 1) === sub, `undo of ${main}.${sub}: not the latest change`);
    h.length -= 2;
    h[g + COUNT] = this.at(g + COUNT) - 1;
    h[g + VER] = this.at(g + VER) - 1;
    if (this.at(g + COUNT) === 0) {
      assert(this.at(g + VER) === 0, 'undo left a generation with versions but no revisions');
      h[g + CREATED] = 0;
    }
    this.checkShape();
  }

  /** The key's revision visible at atRev (the latest <= atRev in a live generation), if any. */
  get(atRev: number): IndexedRevision | undefined {
    const g = this.findGeneration(atRev);
    if (g < 0) return undefined;
    const n = this.at(g + COUNT);
    // The generation's first revision is <= atRev (findGeneration): binary search for the last.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.at(g + REVS + 2 * mid) <= atRev) lo = mid;
      else hi = mid - 1;
    }
    return {
      main: this.at(g + REVS + 2 * lo),
      sub: this.at(g + REVS + 2 * lo + 1),
      created: this.at(g + CREATED),
      version: this.at(g + VER) - (n - 1 - lo),
    };
  }

  /**
   * Whether the record (main, sub) survives a compaction at atRev: it is after atRev, or it is the
   * revision visible at atRev. Compaction deletes the other records of the key (compactor.ts), and
   * hashKV skips them, so every member hashes the same records however far its compaction got.
   */
  keepsAfterCompaction(atRev: number, main: number, sub: number): boolean {
    if (main > atRev) return true;
    const r = this.get(atRev);
    return r !== undefined && r.main === main && r.sub === sub;
  }

  /** The key exists now (its current generation is not empty). */
  isLive(): boolean {
    return this.at(this.last + COUNT) > 0;
  }

  /**
   * Drops what no read at or after atRev can need: etcd's keyIndex.compact (see the example
   * above). The array is only rebuilt when something is dropped.
   */
  compact(atRev: number): void {
    const h = this.h;
    // The first generation that is the current one or still alive at atRev (tombstone >= atRev).
    let g = 0;
    while (g !== this.last) {
      const n = this.at(g + COUNT);
      if (this.at(g + REVS + 2 * (n - 1)) >= atRev) break;
      g = this.nextGeneration(g);
    }
    const n = this.at(g + COUNT);
    let keepFrom = 0;
    let start = g;
    if (n > 0) {
      // The latest revision <= atRev in it (or none, when the generation started after atRev).
      let i = n - 1;
      while (i >= 0 && this.at(g + REVS + 2 * i) > atRev) i--;
      if (i > 0) keepFrom = i;
      // What is left is only the tombstone: the key was deleted at or before atRev.
      if (n - keepFrom === 1 && g !== this.last) {
        start = g + REVS + 2 * n;
        keepFrom = 0;
      }
    }
    if (start === 0 && keepFrom === 0) return;
    // Built at their exact size (slice, concat): compaction is when long-lived arrays shrink.
    const next =
      keepFrom === 0
        ? h.slice(start)
        : [this.at(start + CREATED), this.at(start + VER), n - keepFrom].concat(h.slice(start + REVS + 2 * keepFrom));
    // Everything removed lies before the last generation's header, unless the generation trimmed
    // is the last one: then it becomes the first.
    this.last = start === this.last ? 0 : this.last - (h.length - next.length);
    this.h = next;
    this.checkShape();
  }

  /**
   * Replays one record when the index is rebuilt from the database, in revision order. Records
   * carry their generation's created revision and their version, so a generation whose first
   * records were compacted away is rebuilt exactly.
   *
   * An unfinished compaction (at `compactFloor`) may have deleted some of a generation's
   * obsolete records and not others. A record that does not continue the current generation
   * (another created revision, or a version gap) shows that: everything before it in that
   * generation is obsolete, so it is dropped here, and the compaction that resumes after the
   * rebuild drops the rest.
   */
  restore(main: number, sub: number, created: number, version: number, tombstone: boolean, compactFloor: number): void {
    const g = this.last;
    const n = this.at(g + COUNT);
    if (n > 0 && (this.at(g + CREATED) !== created || this.at(g + VER) + 1 !== version)) {
      assert(this.at(this.h.length - 2) <= compactFloor, 'revision records missing outside a compaction');
      this.h.length = g;
      this.h.push(0, 0, 0);
    }
    if (this.at(g + COUNT) === 0) {
      // A tombstone cannot be the first record of a generation unless its put was compacted
      // away, and then the tombstone itself is obsolete too.
      assert(!tombstone || main <= compactFloor, 'tombstone without its generation');
      this.h[g + CREATED] = created;
      this.h[g + VER] = version - 1;
    }
    this.append(main, sub);
    assert(this.at(g + VER) === version && this.at(g + CREATED) === created, 'revision record does not continue its generation');
    if (tombstone) {
      this.last = this.h.length;
      this.h.push(0, 0, 0);
    }
  }

  /** Number of revisions held, for statistics. */
  revisionCount(): number {
    let total = 0;
    for (let g = 0; ; g = this.nextGeneration(g)) {
      total += this.at(g + COUNT);
      if (g === this.last) return total;
    }
  }

  /** The generations, oldest first, for tests and debugging. */
  generations(): { created: number; ver: number; revs: [number, number][] }[] {
    const out: { created: number; ver: number; revs: [number, number][] }[] = [];
    for (let g = 0; ; g = this.nextGeneration(g)) {
      const revs: [number, number][] = [];
      for (let i = 0; i < this.at(g + COUNT); i++) revs.push([this.at(g + REVS + 2 * i), this.at(g + REVS + 2 * i + 1)]);
      out.push({ created: this.at(g + CREATED), ver: this.at(g + VER), revs });
      if (g === this.last) return out;
    }
  }

  /**
   * Offset of the generation visible at atRev, or -1 when the key does not exist at atRev:
   * the generation that started at or before atRev and was not yet deleted at atRev.
   */
  private findGeneration(atRev: number): number {
    for (let g = 0; ; ) {
      const n = this.at(g + COUNT);
      if (n > 0) {
        // Generations are in revision order: once one starts after atRev, so do the rest.
        if (this.at(g + REVS) > atRev) return -1;
        if (g === this.last || this.at(g + REVS + 2 * (n - 1)) > atRev) return g;
        // Deleted at or before atRev; a later generation may have started by atRev.
      }
      if (g === this.last) return -1;
      g = this.nextGeneration(g);
    }
  }

  /** Appends (main, sub) to the current generation: one more change, one more version. */
  private append(main: number, sub: number): void {
    this.assertAfterLast(main, sub);
    const g = this.last;
    this.h[g + VER] = this.at(g + VER) + 1;
    this.h[g + COUNT] = this.at(g + COUNT) + 1;
    this.h.push(main, sub);
  }

  private assertAfterLast(main: number, sub: number): void {
    const h = this.h;
    // The latest revision is at the end of h, or, when the current generation is empty, the
    // previous generation's tombstone just before it.
    const end = this.at(this.last + COUNT) > 0 ? h.length : this.last;
    if (end === 0) return;
    const lastMain = this.at(end - 2);
    const lastSub = this.at(end - 1);
    assert(main > lastMain || (main === lastMain && sub > lastSub), `revision ${main}.${sub} is not after ${lastMain}.${lastSub}`);
  }

  private checkShape(): void {
    let g = 0;
    for (;;) {
      assert(g === this.last || this.at(g + COUNT) > 0, 'empty generation before the last');
      if (g === this.last) break;
      g = this.nextGeneration(g);
    }
    assert(g + REVS + 2 * this.at(g + COUNT) === this.h.length, 'key index layout is broken');
  }

  /**
   * The offset of the generation after the one at g, which must not be the last. Every walk over
   * the generations goes through here, so a broken layout fails an assertion instead of looping.
   */
  private nextGeneration(g: number): number {
    assert(g < this.last, 'walked past the last generation');
    const next = g + REVS + 2 * this.at(g + COUNT);
    assert(next <= this.last, 'generation runs past the last one');
    return next;
  }

  private at(i: number): number {
    return this.h[i] as number;
  }
}
