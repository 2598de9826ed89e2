/**
 * MemoryStorage: the log raft's in-memory storage keeps between snapshots. Appends are in place
 * (their cost is what they append, not the log's length), so these pin what a copy used to
 * guarantee for free: a conflicting suffix is replaced, old entries are ignored, and what
 * entries() handed out never changes afterwards.
 */
import { describe, expect, it } from 'vitest';
import { EntryType, MemoryStorage, type Entry } from '../../src/raft/index.js';

const e = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array([index]) });
const terms = (s: MemoryStorage): number[] => s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity).map((x) => x.term);

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  s.bootstrap({ voters: [1n], learners: [] });
  return s;
}

describe('MemoryStorage.append', () => {
  it('appends after the last entry, and replaces a conflicting suffix with everything after it', () => {
    const s = storage();
    s.append([e(2, 1), e(3, 1), e(4, 1), e(5, 1)]);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([2, 5]);
    s.append([e(4, 2)]);
    expect(terms(s)).toEqual([1, 1, 2]);
    s.append([e(5, 2), e(6, 2)]);
    expect(terms(s)).toEqual([1, 1, 2, 2, 2]);
    expect(s.term(6)).toBe(2);
  });

  it('ignores entries at or before the snapshot, and refuses a gap', () => {
    const s = storage();
    s.append([e(2, 1), e(3, 1)]);
    s.compact(3);
    s.append([e(2, 1), e(3, 1), e(4, 1)]);
    expect([s.firstIndex(), s.lastIndex()]).toEqual([4, 4]);
    s.append([e(1, 1)]);
    expect(s.lastIndex()).toBe(4);
    expect(() => s.append([e(6, 1)])).toThrow(/missing log entry/);
  });

  it('never changes what entries() handed out before', () => {
    const s = storage();
    s.append([e(2, 1), e(3, 1), e(4, 1)]);
    const before = s.entries(2, 5, Infinity);
    s.append([e(3, 2)]);
    s.append([e(4, 2), e(5, 2)]);
    expect(before.map((x) => [x.index, x.term])).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    expect(terms(s)).toEqual([1, 2, 2, 2]);
  });
});
