import { describe, expect, it } from 'vitest';
import { KeyIndex } from '../../src/mvcc/key-index.js';
import { AssertionError } from '../../src/util/index.js';

/** The worked example of key-index.ts: put 1, put 2, delete 3, put 4, put 5. */
function example(): KeyIndex {
  const ki = KeyIndex.fromPut(1, 0);
  ki.put(2, 0);
  ki.tombstone(3, 0);
  ki.put(4, 0);
  ki.put(5, 0);
  return ki;
}

const gens = (ki: KeyIndex): string =>
  ki
    .generations()
    .map((g) => `{c${g.created} v${g.ver} [${g.revs.map(([m, s]) => `${m}.${s}`).join(' ')}]}`)
    .join(' ');

describe('KeyIndex: generations', () => {
  it('records generations as in the worked example', () => {
    const ki = example();
    expect(gens(ki)).toBe('{c1 v3 [1.0 2.0 3.0]} {c4 v2 [4.0 5.0]}');
    expect(ki.isLive()).toBe(true);
    expect(ki.revisionCount()).toBe(5);
  });

  it('get finds the visible revision with its created revision and version', () => {
    const ki = example();
    expect(ki.get(0)).toBeUndefined();
    expect(ki.get(1)).toEqual({ main: 1, sub: 0, created: 1, version: 1 });
    expect(ki.get(2)).toEqual({ main: 2, sub: 0, created: 1, version: 2 });
    expect(ki.get(3)).toBeUndefined(); // deleted at 3
    expect(ki.get(4)).toEqual({ main: 4, sub: 0, created: 4, version: 1 });
    expect(ki.get(5)).toEqual({ main: 5, sub: 0, created: 4, version: 2 });
    expect(ki.get(100)).toEqual({ main: 5, sub: 0, created: 4, version: 2 });
  });

  it('get picks the last sub-revision of a main revision', () => {
    const ki = KeyIndex.fromPut(7, 0);
    ki.put(7, 3);
    ki.put(9, 1);
    expect(ki.get(7)).toEqual({ main: 7, sub: 3, created: 7, version: 2 });
    expect(ki.get(8)).toEqual({ main: 7, sub: 3, created: 7, version: 2 });
  });

  it('a tombstone and a re-creation may share a main revision (delete then put in one txn)', () => {
    const ki = KeyIndex.fromPut(2, 0);
    ki.tombstone(5, 0);
    ki.put(5, 1);
    expect(ki.get(4)).toEqual({ main: 2, sub: 0, created: 2, version: 1 });
    expect(ki.get(5)).toEqual({ main: 5, sub: 1, created: 5, version: 1 });
    ki.compact(5);
    expect(gens(ki)).toBe('{c5 v1 [5.1]}');
  });

  it('get uses binary search over long generations', () => {
    const ki = KeyIndex.fromPut(10, 0);
    for (let r = 11; r < 1000; r++) ki.put(r, 0);
    expect(ki.get(500)).toEqual({ main: 500, sub: 0, created: 10, version: 491 });
    expect(ki.get(999)?.version).toBe(990);
  });

  it('refuses revisions that do not move forward, and tombstones of deleted keys', () => {
    const ki = KeyIndex.fromPut(5, 1);
    expect(() => ki.put(5, 1)).toThrow(AssertionError);
    expect(() => ki.put(4, 9)).toThrow(AssertionError);
    ki.tombstone(6, 0);
    expect(() => ki.tombstone(7, 0)).toThrow(AssertionError);
    expect(() => ki.put(6, 0)).toThrow(AssertionError);
  });
});

describe('KeyIndex: compaction (the worked example)', () => {
  it('compact(1) keeps everything: 1.0 is the latest at 1', () => {
    const ki = example();
    ki.compact(1);
    expect(gens(ki)).toBe('{c1 v3 [1.0 2.0 3.0]} {c4 v2 [4.0 5.0]}');
  });

  it('compact(2) drops 1.0', () => {
    const ki = example();
    ki.compact(2);
    expect(gens(ki)).toBe('{c1 v3 [2.0 3.0]} {c4 v2 [4.0 5.0]}');
    expect(ki.get(2)).toEqual({ main: 2, sub: 0, created: 1, version: 2 });
  });

  it('compact(3) drops the generation whose tombstone is at 3', () => {
    const ki = example();
    ki.compact(3);
    expect(gens(ki)).toBe('{c4 v2 [4.0 5.0]}');
  });

  it('compact(4) keeps 4.0, the latest at 4; compact(5) keeps only 5.0 with its version', () => {
    const ki = example();
    ki.compact(4);
    expect(gens(ki)).toBe('{c4 v2 [4.0 5.0]}');
    ki.compact(5);
    expect(gens(ki)).toBe('{c4 v2 [5.0]}');
    expect(ki.get(5)).toEqual({ main: 5, sub: 0, created: 4, version: 2 });
  });

  it('a key deleted at or before the compaction becomes empty', () => {
    const ki = KeyIndex.fromPut(2, 0);
    ki.put(3, 0);
    ki.tombstone(4, 0);
    ki.compact(3);
    expect(gens(ki)).toBe('{c2 v3 [3.0 4.0]} {c0 v0 []}');
    expect(ki.isEmpty()).toBe(false);
    ki.compact(4);
    expect(ki.isEmpty()).toBe(true);
  });

  it('compacting the current generation keeps the layout consistent for later puts', () => {
    const ki = KeyIndex.fromPut(2, 0);
    ki.put(3, 0);
    ki.put(4, 0);
    ki.compact(4);
    ki.put(5, 0);
    ki.tombstone(6, 0);
    ki.put(7, 0);
    expect(gens(ki)).toBe('{c2 v5 [4.0 5.0 6.0]} {c7 v1 [7.0]}');
    expect(ki.get(5)?.version).toBe(4);
  });

  it('keepsAfterCompaction keeps exactly the visible revision at or below the compaction', () => {
    const ki = example();
    expect([1, 2, 3, 4, 5].map((m) => ki.keepsAfterCompaction(2, m, 0))).toEqual([false, true, true, true, true]);
    expect([1, 2, 3, 4, 5].map((m) => ki.keepsAfterCompaction(3, m, 0))).toEqual([false, false, false, true, true]);
    // The answer does not change when the index has been trimmed.
    ki.compact(3);
    expect([4, 5].map((m) => ki.keepsAfterCompaction(3, m, 0))).toEqual([true, true]);
  });
});

describe('KeyIndex: undo and restore', () => {
  it('undo rolls back puts and tombstones, in reverse order', () => {
    const ki = example();
    ki.tombstone(6, 0);
    ki.put(6, 1);
    ki.undo(6, 1);
    ki.undo(6, 0);
    expect(gens(ki)).toBe('{c1 v3 [1.0 2.0 3.0]} {c4 v2 [4.0 5.0]}');
    ki.undo(5, 0);
    ki.undo(4, 0);
    expect(gens(ki)).toBe('{c1 v3 [1.0 2.0 3.0]} {c0 v0 []}');
    ki.undo(3, 0);
    expect(gens(ki)).toBe('{c1 v2 [1.0 2.0]}');
    expect(() => ki.undo(1, 0)).toThrow(AssertionError);
  });

  it('restore rebuilds a compacted history from self-describing records', () => {
    // After compact(4) of the example the records left are 4.0 and 5.0; a compaction at 2
    // leaves 2.0 (version 2, created 1), 3.0 (tombstone, version 3), 4.0, 5.0.
    const ki = KeyIndex.fromRecord(2, 0, 1, 2, false);
    ki.restore(3, 0, 1, 3, true, 2);
    ki.restore(4, 0, 4, 1, false, 2);
    ki.restore(5, 0, 4, 2, false, 2);
    const expected = example();
    expected.compact(2);
    expect(gens(ki)).toBe(gens(expected));
  });

  it('restore drops what an unfinished compaction left half-deleted', () => {
    // put 1, 2, 3 then delete 4, compaction at 4 scheduled; 2.0 was deleted, 1.0 and 3.0 not.
    const ki = KeyIndex.fromRecord(1, 0, 1, 1, false);
    ki.restore(3, 0, 1, 3, false, 4); // version gap: 1.0 is obsolete
    expect(gens(ki)).toBe('{c1 v3 [3.0]}');
    ki.restore(4, 0, 1, 4, true, 4);
    ki.restore(6, 0, 6, 1, false, 4);
    expect(gens(ki)).toBe('{c1 v4 [3.0 4.0]} {c6 v1 [6.0]}');
    ki.compact(4);
    expect(gens(ki)).toBe('{c6 v1 [6.0]}');
    // A gap outside a compaction is corruption.
    const bad = KeyIndex.fromRecord(5, 0, 5, 1, false);
    expect(() => bad.restore(7, 0, 5, 3, false, 4)).toThrow(AssertionError);
  });
});
