/**
 * Replay semantics: a batch starting at or below the last index replaces the log from there on,
 * exactly as raft appends; entries come back from a given snapshot marker on.
 */
import { describe, expect, it } from 'vitest';
import { Wal } from '../../src/wal/index.js';
import { LogReplay } from '../../src/wal/replay.js';
import { describeEntries, entries, entry, metadata, tempDir } from './helpers.js';

describe('LogReplay', () => {
  it('follows the worked example in replay.ts', () => {
    const r = new LogReplay({ index: 0, term: 0 });
    r.append(entries(1, 3, 1), 'a');
    r.append(entries(4, 5, 1), 'b');
    r.append([entry(3, 2)], 'c');
    expect(r.entries().map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
    ]);
    expect(r.lastIndex).toBe(3);
    r.append([entry(4, 2)], 'd');
    expect(r.entries().map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
    ]);
  });

  it('drops stale entries above the snapshot when a batch below it ends the log', () => {
    // 1..110 (t1); a new leader truncates to 98 and re-sends 99..100 (t2); snapshot at 100.
    const r = new LogReplay({ index: 100, term: 2 });
    r.append(entries(1, 110, 1), 'a');
    r.append(entries(95, 98, 2), 'b');
    r.append(entries(99, 100, 2), 'c');
    expect(r.entries()).toEqual([]);
    expect(r.lastIndex).toBe(100);
  });

  it('reports a gap after the snapshot', () => {
    const r = new LogReplay({ index: 10, term: 1 });
    r.append(entries(12, 13, 1), 'segment x offset 64');
    expect(r.lastIndex).toBe(13);
    expect(() => r.entries()).toThrow(/entry 12 at segment x offset 64 follows 10/);
  });
});

describe('Wal replay', () => {
  it('replays overlapping batches like a raft log, through the disk', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    await wal.save({ term: 1, vote: 1n, commit: 2 }, entries(1, 5, 1));
    // A new leader in term 2 overwrites 4..5 with its own 4.
    await wal.save({ term: 2, vote: 2n, commit: 3 }, [entry(4, 2, 'new4')]);
    expect(wal.lastIndex()).toBe(4);
    await wal.save(undefined, [entry(5, 2, 'new5'), entry(6, 2, 'new6')]);
    // And a later leader rewrites from 6.
    await wal.save(undefined, [entry(6, 3, 'newer6')]);
    await wal.close();

    const r = await Wal.open(dir);
    expect(describeEntries(r.entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 1, 'e3'],
      [4, 2, 'new4'],
      [5, 2, 'new5'],
      [6, 3, 'newer6'],
    ]);
    expect(r.hardState).toEqual({ term: 2, vote: 2n, commit: 3 });
    await r.wal.close();
  });

  it('returns the entries after the snapshot it is opened from', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    await wal.save(undefined, entries(1, 10, 1));
    await wal.saveSnapshotMarker({ index: 6, term: 1 });
    await wal.save(undefined, entries(11, 12, 1));
    await wal.close();

    const fromSnap = await Wal.open(dir, { from: { index: 6, term: 1 } });
    expect(fromSnap.entries.map((e) => e.index)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(fromSnap.snapshot).toEqual({ index: 6, term: 1 });
    await fromSnap.wal.close();

    const fromStart = await Wal.open(dir);
    expect(fromStart.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await fromStart.wal.close();

    await expect(Wal.open(dir, { from: { index: 6, term: 2 } })).rejects.toMatchObject({ code: 'WAL_SNAPSHOT_NOT_FOUND' });
    await expect(Wal.open(dir, { from: { index: 7, term: 1 } })).rejects.toMatchObject({ code: 'WAL_SNAPSHOT_NOT_FOUND' });
  });

  it('continues after a snapshot marker beyond the log (a follower installing a snapshot)', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    await wal.save(undefined, entries(1, 3, 1));
    await wal.saveSnapshotMarker({ index: 100, term: 4 });
    expect(wal.lastIndex()).toBe(100);
    await wal.save({ term: 4, vote: 0n, commit: 101 }, [entry(101, 4)]);
    await wal.close();

    const r = await Wal.open(dir, { from: { index: 100, term: 4 } });
    expect(r.entries.map((e) => e.index)).toEqual([101]);
    await r.wal.close();
    // From the start, 4..100 are in no record: that is a gap, not an empty stretch.
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: 'WAL_MISSING_ENTRIES' });
  });
});
