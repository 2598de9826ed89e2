/**
 * Crash damage versus corruption. A torn or damaged tail (the last write, which was never
 * acknowledged) is cut back to the last good record; damage that acknowledged records follow is
 * refused with an error naming the file and byte offset, leaving the files untouched.
 */
import { readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal, WalCorruptError } from '../../src/wal/index.js';
import { describeEntries, entries, entry, flipByte, lastSegment, metadata, segmentFiles, tempDir } from './helpers.js';

/** A one-segment WAL of three saves; returns the byte offsets where each save's write began. */
async function threeSaves(dir: string): Promise<{ file: string; starts: number[]; size: number }> {
  const wal = await Wal.create(dir, metadata);
  const file = await lastSegment(dir);
  const starts: number[] = [];
  starts.push((await stat(file)).size);
  await wal.save({ term: 1, vote: 1n, commit: 1 }, entries(1, 2, 1));
  starts.push((await stat(file)).size);
  await wal.save({ term: 1, vote: 1n, commit: 2 }, entries(3, 4, 1));
  starts.push((await stat(file)).size);
  // The last write holds two records: an entries batch and a hard state.
  await wal.save({ term: 2, vote: 2n, commit: 4 }, [entry(5, 2, 'the last one')]);
  await wal.close();
  return { file, starts, size: (await stat(file)).size };
}

describe('torn tail', () => {
  it('recovers to the last complete record from a cut at every byte of the last write', async () => {
    const dir = await tempDir();
    const { file, starts, size } = await threeSaves(dir);
    const whole = await readFile(file);
    const lastStart = starts[2] as number;
    // The last write is [entries 5][hard state]; find where the first record ends.
    const boundary = lastStart + ((9 + whole.readUInt32LE(lastStart) + 7) & ~7);
    expect(boundary).toBeLessThan(size);

    for (let cut = lastStart; cut < size; cut++) {
      await writeFile(file, whole.subarray(0, cut));
      const r = await Wal.open(dir);
      const keptEntry5 = cut >= boundary;
      const goodEnd = keptEntry5 ? boundary : lastStart;
      expect(r.entries.map((e) => e.index), `cut at ${cut}`).toEqual(keptEntry5 ? [1, 2, 3, 4, 5] : [1, 2, 3, 4]);
      expect(r.hardState, `cut at ${cut}`).toEqual({ term: 1, vote: 1n, commit: 2 });
      // A cut on a record boundary is a clean end; anything else is repaired back to one.
      if (cut === goodEnd) expect(r.repair).toBeUndefined();
      else expect(r.repair, `cut at ${cut}`).toMatchObject({ file, offset: goodEnd });
      expect((await stat(file)).size).toBe(goodEnd);
      // Appending resumes at the cut, and the chain carries on.
      await r.wal.save({ term: 3, vote: 3n, commit: 4 }, [entry(5, 3, 'again')]);
      await r.wal.close();
      const again = await Wal.open(dir);
      expect(describeEntries(again.entries).at(-1)).toEqual([5, 3, 'again']);
      expect(again.hardState).toEqual({ term: 3, vote: 3n, commit: 4 });
      await again.wal.close();
    }
  });

  it('reads zeroed space after the last record (a file extended but never written) as the end', async () => {
    const dir = await tempDir();
    const { file, starts, size } = await threeSaves(dir);
    const whole = await readFile(file);
    // The last write's blocks never reached the disk, the size did.
    const zeroed = Buffer.concat([whole.subarray(0, starts[2]), Buffer.alloc(size - (starts[2] as number) + 4096)]);
    await writeFile(file, zeroed);
    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(r.repair?.reason).toMatch(/zeroed/);
    await r.wal.close();
  });

  it('cuts a last write whose first record was lost while its second one landed', async () => {
    const dir = await tempDir();
    const { file, starts } = await threeSaves(dir);
    const whole = await readFile(file);
    // Zero the entries record of the last write; its hard-state record (same write) survives.
    const damaged = Buffer.from(whole);
    damaged.fill(0, starts[2], (starts[2] as number) + 16);
    await writeFile(file, damaged);
    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(r.repair?.offset).toBe(starts[2]);
    await r.wal.close();
  });

  it('cuts back a flipped byte in the last record', async () => {
    const dir = await tempDir();
    const { file, starts, size } = await threeSaves(dir);
    await flipByte(file, size - 12);
    const r = await Wal.open(dir);
    // The last write was [entries 5, hard state]; the hard state is damaged, entry 5 survives.
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(r.hardState).toEqual({ term: 1, vote: 1n, commit: 2 });
    expect(r.repair?.offset).toBeGreaterThan(starts[2] as number);
    expect(r.repair?.reason).toMatch(/crc mismatch/);
    await r.wal.close();
  });

  it('drops an empty last segment and a torn one, and keeps appending to the one before', async () => {
    const dir = await tempDir();
    // segmentBytes 1: every write goes to a new segment.
    const wal = await Wal.create(dir, metadata, { segmentBytes: 1 });
    await wal.save(undefined, entries(1, 2, 1));
    await wal.save(undefined, entries(3, 4, 1));
    await wal.close();
    const files = await segmentFiles(dir);
    expect(files).toEqual([
      '0000000000000000-0000000000000000.wal',
      '0000000000000001-0000000000000001.wal',
      '0000000000000002-0000000000000003.wal',
    ]);
    // A roll that left only zeros, and one that left an empty file.
    await writeFile(path.join(dir, '0000000000000003-0000000000000005.wal'), Buffer.alloc(64));
    await writeFile(path.join(dir, '0000000000000004-0000000000000005.wal'), Buffer.alloc(0));
    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(r.repair?.droppedSegments).toEqual(['0000000000000004-0000000000000005.wal', '0000000000000003-0000000000000005.wal']);
    expect(await segmentFiles(dir)).toEqual(files);
    await r.wal.save(undefined, [entry(5, 1)]);
    await r.wal.close();
    const again = await Wal.open(dir);
    expect(again.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    await again.wal.close();
  });

  it('does not accept a record spliced in from another WAL', async () => {
    // Two WALs with the same records but different metadata: every CRC in the chain differs.
    const a = await tempDir();
    const b = await tempDir();
    const ra = await threeSaves(a);
    const wb = await Wal.create(b, new TextEncoder().encode('another cluster'));
    await wb.save({ term: 1, vote: 1n, commit: 1 }, entries(1, 2, 1));
    await wb.save({ term: 1, vote: 1n, commit: 2 }, entries(3, 4, 1));
    const fb = await lastSegment(b);
    const bStart = (await stat(fb)).size;
    await wb.save({ term: 9, vote: 9n, commit: 4 }, [entry(5, 9, 'forged')]);
    await wb.close();
    const forged = (await readFile(fb)).subarray(bStart);
    const own = await readFile(ra.file);
    await writeFile(ra.file, Buffer.concat([own.subarray(0, ra.starts[2]), forged]));
    const r = await Wal.open(a);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(r.repair?.reason).toMatch(/crc mismatch/);
    await r.wal.close();
  });
});

describe('corruption in the middle', () => {
  it('refuses to start on a flipped byte in an acknowledged record, naming file and offset', async () => {
    const dir = await tempDir();
    const { file, starts, size } = await threeSaves(dir);
    // Inside the second write's entries payload.
    const offset = (starts[1] as number) + 20;
    await flipByte(file, offset);
    const flipped = await readFile(file);
    const err = await Wal.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WalCorruptError);
    const c = err as WalCorruptError;
    expect(c.code).toBe('WAL_CORRUPT');
    expect(c.file).toBe(file);
    expect(c.offset).toBe(starts[1]);
    expect(c.message).toContain(file);
    expect(c.message).toContain(`byte offset ${starts[1]}`);
    expect(c.message).toMatch(/crc mismatch; valid records of a later write follow at offset \d+/);
    // Nothing was cut or rewritten: the evidence stays as it was.
    expect((await stat(file)).size).toBe(size);
    expect((await readFile(file)).equals(flipped)).toBe(true);
  });

  it('refuses a damaged length field and a zeroed record in the middle', async () => {
    for (const damage of ['length', 'zeroed'] as const) {
      const dir = await tempDir();
      const { file, starts } = await threeSaves(dir);
      const buf = await readFile(file);
      const at = starts[1] as number;
      if (damage === 'length') buf.writeUInt32LE(buf.readUInt32LE(at) + 8, at);
      else buf.fill(0, at, at + 16);
      await writeFile(file, buf);
      await expect(Wal.open(dir), damage).rejects.toMatchObject({ code: 'WAL_CORRUPT', file, offset: at });
    }
  });

  it('refuses damage in a segment that is not the last', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata, { segmentBytes: 1 });
    await wal.save(undefined, entries(1, 2, 1));
    await wal.save(undefined, entries(3, 4, 1));
    await wal.close();
    const files = await segmentFiles(dir);
    expect(files).toHaveLength(3);
    const middle = path.join(dir, files[1] as string);
    // Cut the middle segment's last record: a torn tail anywhere but the end is corruption.
    await truncate(middle, (await stat(middle)).size - 3);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: 'WAL_CORRUPT', file: middle });
  });

  it('refuses a missing segment in the sequence', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata, { segmentBytes: 1 });
    for (let i = 1; i <= 3; i++) await wal.save(undefined, [entry(i, 1)]);
    await wal.close();
    const files = await segmentFiles(dir);
    expect(files).toHaveLength(4);
    await unlink(path.join(dir, files[1] as string));
    await expect(Wal.open(dir)).rejects.toThrow(/segment sequence gap/);
  });
});

describe('every single-byte flip', () => {
  it('is refused at the record holding it, ignored in padding, or cut when in the last write', async () => {
    const dir = await tempDir();
    const { file, starts, size } = await threeSaves(dir);
    const whole = await readFile(file);
    const lastStart = starts[2] as number;
    // The record layout, read straight off the frame headers.
    const frames: { start: number; dataEnd: number; end: number }[] = [];
    for (let o = 0; o < whole.byteLength; ) {
      const dataEnd = o + 9 + whole.readUInt32LE(o);
      const end = (dataEnd + 7) & ~7;
      frames.push({ start: o, dataEnd, end });
      o = end;
    }
    expect(frames.at(-1)?.end).toBe(size);

    for (let at = 0; at < size; at++) {
      const frame = frames.find((f) => f.start <= at && at < f.end);
      if (frame === undefined) throw new Error(`no frame holds byte ${at}`);
      const damaged = Buffer.from(whole);
      damaged[at] = (damaged[at] as number) ^ 0x01;
      await writeFile(file, damaged);
      const result = await Wal.open(dir).catch((e: unknown) => e);
      if (at >= frame.dataEnd) {
        // Padding is outside the CRC and never read.
        expect(result, `flip at ${at}`).not.toBeInstanceOf(Error);
      } else if (at >= lastStart) {
        expect(result, `flip at ${at}`).not.toBeInstanceOf(Error);
        expect((result as Awaited<ReturnType<typeof Wal.open>>).repair?.offset, `flip at ${at}`).toBe(frame.start);
      } else {
        expect(result, `flip at ${at}`).toBeInstanceOf(WalCorruptError);
        expect((result as WalCorruptError).offset, `flip at ${at}`).toBe(frame.start);
      }
      if (!(result instanceof Error)) await (result as Awaited<ReturnType<typeof Wal.open>>).wal.close();
    }
  });
});
