/**
 * The in-memory key index: every key's KeyIndex (key-index.ts) in a B+ tree ordered by key bytes
 * (etcd's treeIndex). It answers "which revision of which keys is visible at rev" without
 * touching the database; values are then read by revision.
 *
 * Keys are latin1 strings (bytes.ts), so the tree's order is byte order.
 */
import sortedBtree from 'sorted-btree';
import { bulkLoad } from 'sorted-btree/extended/bulkLoad.js';
import { assert } from '../util/index.js';
import { compareStrings, type KeySpan } from './bytes.js';
import type { IndexedRevision, KeyIndex } from './key-index.js';

// sorted-btree is CommonJS with `exports.default = BTree`. Node's ESM loader hands the whole
// `module.exports` as the default import (the class is at `.default`), while vitest's loader
// unwraps `__esModule` defaults and hands the class itself; accept both.
type BTreeClass = typeof sortedBtree.default;
const loaded = sortedBtree as unknown as BTreeClass | { default: BTreeClass };
const BTree: BTreeClass = typeof loaded === 'function' ? loaded : loaded.default;
type BTreeOf<K, V> = InstanceType<typeof sortedBtree.default<K, V>>;

/** A key and its revision visible at some rev. */
export interface IndexEntry {
  readonly key: string;
  readonly rev: IndexedRevision;
}

/** Keys per B+ tree node: sorted-btree's default. */
const NODE_SIZE = 32;

export class TreeIndex {
  private constructor(private readonly tree: BTreeOf<string, KeyIndex>) {}

  static empty(): TreeIndex {
    return new TreeIndex(new BTree<string, KeyIndex>(undefined, compareStrings, NODE_SIZE));
  }

  /** An index of these keys, which must be sorted and distinct (checked), built in O(n). */
  static fromSorted(keys: string[], indexes: KeyIndex[]): TreeIndex {
    assert(keys.length === indexes.length, 'one KeyIndex per key');
    // Leaves full to the load factor: a rebuilt index is mostly read and appended to.
    return new TreeIndex(bulkLoad(keys, indexes, NODE_SIZE, compareStrings, 0.9));
  }

  get size(): number {
    return this.tree.size;
  }

  get(key: string): KeyIndex | undefined {
    return this.tree.get(key);
  }

  /** Adds the index of a key that has none (its first put, or the first since compaction dropped it). */
  add(key: string, ki: KeyIndex): void {
    const added = this.tree.setIfNotPresent(key, ki);
    assert(added, 'the key is already in the index');
  }

  /** Rolls back the latest change of a key (KeyIndex.undo), dropping the key if nothing is left. */
  undo(key: string, main: number, sub: number): void {
    const ki = this.tree.get(key);
    assert(ki !== undefined, 'undo of a key that is not in the index');
    ki.undo(main, sub);
    if (ki.isEmpty()) this.tree.delete(key);
  }

  /**
   * Calls fn for every key in the span, in ascending order, until it returns false. fn must not
   * add or remove keys.
   */
  visit(span: KeySpan, fn: (key: string, ki: KeyIndex) => boolean | void): void {
    if (span.single) {
      const ki = this.tree.get(span.key);
      if (ki !== undefined) fn(span.key, ki);
      return;
    }
    const high = span.end ?? this.tree.maxKey();
    if (high === undefined || high < span.start) return;
    this.tree.forRange(span.start, high, span.end === null, (k, ki) => (fn(k, ki) === false ? { break: true } : undefined));
  }

  /**
   * The revisions visible at atRev in the span, in key order: the first `limit` of them
   * (limit <= 0: all) and how many there are in all (etcd's treeIndex.Revisions).
   */
  revisions(span: KeySpan, atRev: number, limit: number): { entries: IndexEntry[]; total: number } {
    const entries: IndexEntry[] = [];
    let total = 0;
    this.visit(span, (key, ki) => {
      const rev = ki.get(atRev);
      if (rev === undefined) return;
      total++;
      if (limit <= 0 || entries.length < limit) entries.push({ key, rev });
    });
    return { entries, total };
  }

  /** How many keys in the span are visible at atRev (etcd's CountRevisions). */
  count(span: KeySpan, atRev: number): number {
    let total = 0;
    this.visit(span, (_key, ki) => {
      if (ki.get(atRev) !== undefined) total++;
    });
    return total;
  }

  /**
   * Compacts up to `maxKeys` keys at atRev, starting at `from` (the first key when undefined),
   * dropping keys left empty. Returns the key to continue from, or undefined when done. Done in
   * chunks so a compaction of millions of keys does not hold the event loop.
   */
  compactChunk(atRev: number, from: string | undefined, maxKeys: number): string | undefined {
    assert(maxKeys > 0, 'compactChunk needs a positive chunk size');
    const low = from ?? this.tree.minKey();
    const high = this.tree.maxKey();
    if (low === undefined || high === undefined || low > high) return undefined;
    let n = 0;
    // One walk along the leaves (editRange may delete as it goes), not a search per key.
    const stoppedAt = this.tree.editRange<string>(low, high, true, (key, ki) => {
      if (n === maxKeys) return { break: key };
      n++;
      ki.compact(atRev);
      return ki.isEmpty() ? { delete: true } : undefined;
    });
    return typeof stoppedAt === 'string' ? stoppedAt : undefined;
  }

  /** Total revisions held, for statistics (walks every key). */
  revisionCount(): number {
    let total = 0;
    this.tree.forEachPair((_k, ki) => {
      total += ki.revisionCount();
    });
    return total;
  }
}
