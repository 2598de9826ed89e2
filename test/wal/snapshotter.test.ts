/**
 * Snapshot files: round trip, newest-first loading that skips (and sets aside) damaged files,
 * purge, and crash-safe writes.
 */
import { readdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snapshotter, snapshotFileName } from '../../src/wal/index.js';
import { FaultyFs, flipByte, tempDir } from './helpers.js';

function snap(index: number, term: number, bytes = 64): { index: number; term: number; configuration: unknown; data: Uint8Array } {
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + index) & 0xff;
  return { index, term, configuration: { voters: [1n, 2n, (1n << 64n) - 1n], learners: [] }, data };
}

describe('Snapshotter', () => {
  it('round-trips index, term, a configuration with bigints, and the data', async () => {
    const dir = path.join(await tempDir(), 'snap');
    const s = new Snapshotter(dir);
    expect(await s.loadNewest()).toBeUndefined();
    const original = snap(1234, 5, 100_000);
    await s.save(original);
    expect(await readdir(dir)).toEqual(['0000000000000005-00000000000004d2.snap']);
    const loaded = await s.loadNewest();
    expect(loaded).toMatchObject({ index: 1234, term: 5, configuration: original.configuration });
    expect(loaded?.data.constructor).toBe(Uint8Array);
    expect(Buffer.from(loaded?.data ?? []).equals(original.data)).toBe(true);
  });

  it('loads the newest file, skipping damaged ones and renaming them to .broken', async () => {
    const dir = await tempDir();
    const s = new Snapshotter(dir);
    await s.save(snap(10, 1));
    await s.save(snap(20, 2));
    await s.save(snap(30, 2));
    await s.save(snap(40, 3));
    expect((await s.loadNewest())?.index).toBe(40);

    // Newest: a flipped data byte. Next: cut short. Next: renamed to a name it does not match.
    await flipByte(path.join(dir, snapshotFileName({ index: 40, term: 3 })), 60);
    await truncate(path.join(dir, snapshotFileName({ index: 30, term: 2 })), 30);
    await rename(path.join(dir, snapshotFileName({ index: 20, term: 2 })), path.join(dir, snapshotFileName({ index: 25, term: 2 })));
    const loaded = await s.loadNewest();
    expect(loaded).toEqual(snap(10, 1));
    expect((await readdir(dir)).sort()).toEqual([
      '0000000000000001-000000000000000a.snap',
      '0000000000000002-0000000000000019.snap.broken',
      '0000000000000002-000000000000001e.snap.broken',
      '0000000000000003-0000000000000028.snap.broken',
    ]);

    // Nothing usable left: undefined, not an error.
    await writeFile(path.join(dir, snapshotFileName({ index: 10, term: 1 })), 'garbage');
    expect(await s.loadNewest()).toBeUndefined();
  });

  it('loads the newest snapshot the caller accepts (e.g. one the WAL has a marker for)', async () => {
    const dir = await tempDir();
    const s = new Snapshotter(dir);
    await s.save(snap(10, 1));
    await s.save(snap(20, 2));
    expect((await s.loadNewest((m) => m.index <= 15))?.index).toBe(10);
  });

  it('purges all but the newest `keep` files, and clears temp files of unfinished saves', async () => {
    const dir = await tempDir();
    const s = new Snapshotter(dir);
    for (const i of [5, 1, 4, 2, 3]) await s.save(snap(i * 10, i));
    await writeFile(path.join(dir, `${snapshotFileName({ index: 60, term: 6 })}.tmp`), 'half a snapshot');
    expect(await s.purge(2)).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(['0000000000000004-0000000000000028.snap', '0000000000000005-0000000000000032.snap']);
    expect(await s.purge(2)).toBe(0);
  });

  it('leaves no file behind when the fsync of a save fails', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    const s = new Snapshotter(dir, { fs });
    await s.save(snap(10, 1));
    const good = await readFile(path.join(dir, snapshotFileName({ index: 10, term: 1 })));
    // A snapshot file is fsynced with sync(); make the whole-file fsync fail through open().
    const failing = new FaultyFs();
    const inner = failing.open.bind(failing);
    failing.open = async (file, flags) => {
      const h = await inner(file, flags);
      return file.endsWith('.tmp') ? { ...h, sync: () => Promise.reject(new Error('EIO')) } : h;
    };
    await expect(new Snapshotter(dir, { fs: failing }).save(snap(20, 2))).rejects.toThrow('EIO');
    expect(await readdir(dir)).toEqual(['0000000000000001-000000000000000a.snap']);
    expect(await readFile(path.join(dir, snapshotFileName({ index: 10, term: 1 })))).toEqual(good);
  });
});
