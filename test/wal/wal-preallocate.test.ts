/**
 * Preallocated segments (WalOptions.preallocate): every segment is extended to segmentBytes when
 * begun, writes land inside it, the zeros after the last record read as the end (no repair),
 * and what is not zeros after it is still a torn tail or corruption, as without preallocation.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal, WalCorruptError } from '../../src/wal/index.js';
import { entries, entry, lastSegment, metadata, segmentFiles, tempDir } from './helpers.js';

const SEGMENT = 64 * 1024;
const opts = { segmentBytes: SEGMENT, preallocate: true } as const;

/** A preallocated one-segment WAL of three saves; the offsets where each save's write began and ended. */
async function threeSaves(dir: string): Promise<{ file: string; starts: number[]; end: number }> {
  const wal = await Wal.create(dir, metadata, opts);
  const file = await lastSegment(dir);
  const starts: number[] = [];
  const written = (): number => wal.stats().bytesWritten;
  const header = await headerBytes(file);
  starts.push(header);
  await wal.save({ term: 1, vote: 1n, commit: 1 }, entries(1, 2, 1));
  starts.push(header + written());
  await wal.save({ term: 1, vote: 1n, commit: 2 }, entries(3, 4, 1));
  starts.push(header + written());
  await wal.save({ term: 2, vote: 2n, commit: 4 }, [entry(5, 2, 'the last one')]);
  const end = header + written();
  await wal.close();
  return { file, starts, end };
}

/** Where a fresh segment's header records end: the first all-zero 8-byte header. */
async function headerBytes(file: string): Promise<number> {
  const buf = await readFile(file);
  for (let at = 0; at < buf.byteLength; at += 8) if (buf.subarray(at, at + 9).every((b) => b === 0)) return at;
  throw new Error('no zeroed space in the segment');
}

describe('preallocated segments', () => {
  it('are extended to segmentBytes, written inside, and read back with no repair', async () => {
    const dir = await tempDir();
    const { file, end } = await threeSaves(dir);
    expect((await stat(file)).size).toBe(SEGMENT);
    const buf = await readFile(file);
    expect(buf.subarray(end).every((b) => b === 0)).toBe(true);

    const r = await Wal.open(dir, opts);
    expect(r.repair).toBeUndefined();
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(r.hardState).toEqual({ term: 2, vote: 2n, commit: 4 });
    // Appends continue after the last record, inside the file.
    await r.wal.save({ term: 2, vote: 2n, commit: 5 }, [entry(6, 2)]);
    await r.wal.close();
    expect((await stat(file)).size).toBe(SEGMENT);
    const again = await Wal.open(dir, opts);
    expect(again.repair).toBeUndefined();
    expect(again.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6]);
    await again.wal.close();
  });

  it('rolls into preallocated segments and replays across their zeroed tails', async () => {
    const dir = await tempDir();
    const small = { segmentBytes: 1024, preallocate: true } as const;
    const wal = await Wal.create(dir, metadata, small);
    for (let i = 1; i <= 30; i++) await wal.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1, 'x'.repeat(60))]);
    await wal.close();
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    for (const name of files) expect((await stat(path.join(dir, name))).size).toBeGreaterThanOrEqual(1024);
    const r = await Wal.open(dir, small);
    expect(r.repair).toBeUndefined();
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: 30 }, (_, k) => k + 1));
    await r.wal.close();
  });

  it('extends a segment written without preallocation when opened with it', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata, { segmentBytes: SEGMENT });
    await wal.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 3, 1));
    await wal.close();
    const file = await lastSegment(dir);
    const before = (await stat(file)).size;
    expect(before).toBeLessThan(SEGMENT);
    const r = await Wal.open(dir, opts);
    expect((await stat(file)).size).toBe(SEGMENT);
    await r.wal.save({ term: 1, vote: 1n, commit: 3 }, entries(4, 5, 1));
    await r.wal.close();
    const again = await Wal.open(dir, opts);
    expect(again.repair).toBeUndefined();
    expect(again.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    await again.wal.close();
  });

  it('cuts a torn last write inside the preallocated space, and extends the segment again', async () => {
    const dir = await tempDir();
    const { file, starts, end } = await threeSaves(dir);
    const buf = await readFile(file);
    // The last write's first 12 bytes landed, the rest of it did not.
    buf.fill(0, (starts[2] as number) + 12, end);
    await writeFile(file, buf);
    const r = await Wal.open(dir, opts);
    expect(r.repair?.offset).toBe(starts[2]);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect((await stat(file)).size).toBe(SEGMENT);
    await r.wal.save({ term: 2, vote: 2n, commit: 4 }, [entry(5, 2, 'again')]);
    await r.wal.close();
    const again = await Wal.open(dir, opts);
    expect(again.repair).toBeUndefined();
    expect(again.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    await again.wal.close();
  });

  it('refuses zeros where an acknowledged write was when a later write follows', async () => {
    const dir = await tempDir();
    const { file, starts } = await threeSaves(dir);
    const buf = await readFile(file);
    // The first record of the second write lost; its hard state and the third write remain.
    buf.fill(0, starts[1], (starts[1] as number) + 16);
    await writeFile(file, buf);
    await expect(Wal.open(dir, opts)).rejects.toBeInstanceOf(WalCorruptError);
  });
});
