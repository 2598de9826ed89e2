/**
 * Segment rolling and releaseTo: segments roll at the size limit, each one repeats the header
 * (metadata, hard state, last snapshot marker) so older ones can be deleted once a snapshot
 * covers them, and the current segment is never deleted.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal } from '../../src/wal/index.js';
import { entries, entry, metadata, segmentFiles, tempDir } from './helpers.js';

describe('segments', () => {
  it('roll at the size limit, named by sequence and first index, and replay across', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata, { segmentBytes: 512 });
    for (let i = 1; i <= 40; i++) await wal.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1, 'x'.repeat(40))]);
    await wal.close();

    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(4);
    expect(wal.segments()).toEqual(files);
    expect(wal.stats().segmentsCreated).toBe(files.length - 1);
    let prevFirst = 0;
    for (const [seq, name] of files.entries()) {
      expect(name).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}\.wal$/);
      expect(Number.parseInt(name.slice(0, 16), 16)).toBe(seq);
      const first = Number.parseInt(name.slice(17, 33), 16);
      expect(first).toBeGreaterThanOrEqual(prevFirst);
      prevFirst = first;
      // A segment holds at most one write past the limit.
      expect((await stat(path.join(dir, name))).size).toBeLessThan(512 + 200);
    }

    const r = await Wal.open(dir, { segmentBytes: 512 });
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 40 }, (_, k) => k + 1));
    expect(r.hardState).toEqual({ term: 1, vote: 1n, commit: 39 });
    await r.wal.close();
  });

  it('releaseTo deletes the segments wholly before the one holding the index, never the current one', async () => {
    const dir = await tempDir();
    // segmentBytes 1: every write lands in a fresh segment, named after the next index.
    const wal = await Wal.create(dir, metadata, { segmentBytes: 1 });
    await wal.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 3, 1));
    await wal.save({ term: 1, vote: 1n, commit: 3 }, entries(4, 6, 1));
    await wal.save({ term: 2, vote: 2n, commit: 6 }, entries(7, 9, 2));
    expect(wal.segments()).toEqual([
      '0000000000000000-0000000000000000.wal',
      '0000000000000001-0000000000000001.wal',
      '0000000000000002-0000000000000004.wal',
      '0000000000000003-0000000000000007.wal',
    ]);

    expect(await wal.releaseTo(0)).toBe(0);
    // Index 3 is in the segment begun at 1: only the header-only segment before it goes.
    expect(await wal.releaseTo(3)).toBe(1);
    expect(await segmentFiles(dir)).toEqual(wal.segments());
    expect(wal.segments()[0]).toBe('0000000000000001-0000000000000001.wal');
    // Index 5 is in the segment begun at 4.
    await wal.saveSnapshotMarker({ index: 5, term: 1 });
    expect(await wal.releaseTo(5)).toBe(1);
    expect(wal.segments()[0]).toBe('0000000000000002-0000000000000004.wal');
    // Far beyond the log: everything but the current segment.
    await wal.saveSnapshotMarker({ index: 9, term: 2 });
    const current = wal.segments().at(-1);
    expect(await wal.releaseTo(1_000)).toBe(3);
    expect(await wal.releaseTo(1_000)).toBe(0);
    expect(wal.segments()).toEqual([current]);
    expect(await segmentFiles(dir)).toEqual(wal.segments());
    await wal.save(undefined, [entry(10, 2)]);
    await wal.close();

    // What is left starts with a segment header: metadata, the hard state, the marker before it.
    const r = await Wal.open(dir, { from: { index: 9, term: 2 } });
    expect(r.metadata).toEqual(metadata);
    expect(r.hardState).toEqual({ term: 2, vote: 2n, commit: 6 });
    expect(r.snapshot).toEqual({ index: 9, term: 2 });
    expect(r.snapshots).toEqual([
      { index: 5, term: 1 },
      { index: 9, term: 2 },
    ]);
    expect(r.entries.map((e) => e.index)).toEqual([10]);
    await r.wal.close();
    // Entries 6..9 went with the segments released past snapshot 5.
    await expect(Wal.open(dir, { from: { index: 5, term: 1 } })).rejects.toMatchObject({ code: 'WAL_MISSING_ENTRIES' });
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: 'WAL_SNAPSHOT_NOT_FOUND' });
  });

  it('keeps what a snapshot after release needs, and refuses replay from before it', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata, { segmentBytes: 256 });
    for (let i = 1; i <= 30; i++) await wal.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1, 'y'.repeat(30))]);
    await wal.saveSnapshotMarker({ index: 20, term: 1 });
    const released = await wal.releaseTo(20);
    expect(released).toBeGreaterThan(0);
    for (let i = 31; i <= 35; i++) await wal.save(undefined, [entry(i, 1)]);
    await wal.close();

    const r = await Wal.open(dir, { from: { index: 20, term: 1 } });
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 15 }, (_, k) => k + 21));
    await r.wal.close();
    // The kept segments' headers still name snapshot {0, 0}, but entries 1..19 are gone.
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: 'WAL_MISSING_ENTRIES' });
  });
});
