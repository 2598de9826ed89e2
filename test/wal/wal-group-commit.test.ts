/**
 * Group commit and failure: concurrent savers share fsyncs; a failed write or fsync rejects every
 * save waiting on it and poisons the WAL, so nothing later is reported durable.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { Wal, WalError } from '../../src/wal/index.js';
import { nodeFs, type Fs } from '../../src/wal/fs.js';
import { Eio, FaultyFs, entry, metadata, tempDir } from './helpers.js';

/** Resolves once `cond` holds, polling between event-loop turns (bounded). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error('condition never held');
}

describe('group commit', () => {
  it('writes everything saved in one turn with one write and one fdatasync', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    const wal = await Wal.create(dir, metadata, { fs });
    const before = fs.datasyncs;
    const saves = [];
    for (let i = 1; i <= 200; i++) saves.push(wal.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1)]));
    await Promise.all(saves);
    expect(fs.datasyncs - before).toBe(1);
    expect(wal.stats()).toMatchObject({ saves: 200, recordsWritten: 400, writes: 1, fsyncs: 1 });
    await wal.close();
  });

  it('on the real disk, segments are opened with O_DSYNC: the write is the durable step, no fdatasync follows', async () => {
    const dir = await tempDir();
    // Forwards the open options (FaultyFs drops them) and counts datasync calls.
    let datasyncs = 0;
    let durable = 0;
    const counting: Fs = {
      ...nodeFs,
      open: async (file, flags, options) => {
        const f = await nodeFs.open(file, flags, options);
        if (f.writesDurable === true) durable++;
        return {
          writesDurable: f.writesDurable === true,
          read: f.read.bind(f),
          write: f.write.bind(f),
          sync: f.sync.bind(f),
          truncate: f.truncate.bind(f),
          stat: f.stat.bind(f),
          close: f.close.bind(f),
          datasync: () => {
            datasyncs++;
            return f.datasync();
          },
        };
      },
    };
    const wal = await Wal.create(dir, metadata, { fs: counting });
    for (let i = 1; i <= 5; i++) await wal.save({ term: 1, vote: 1n, commit: i - 1 }, [entry(i, 1)]);
    expect(durable).toBeGreaterThan(0);
    expect(datasyncs).toBe(0);
    expect(wal.stats()).toMatchObject({ saves: 5, writes: 5, fsyncs: 5 });
    await wal.close();
    expect((await Wal.open(dir)).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    // Without the option honoured, each write is followed by an fdatasync, as before.
    const plain = await nodeFs.open(path.join(dir, 'plain'), 'w+');
    expect(plain.writesDurable).toBe(false);
    await plain.close();
  });

  it('lets concurrent appenders share fsyncs: far fewer fsyncs than saves', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    // A slow disk makes the sharing visible: every saver wakes, saves again, and waits together.
    fs.beforeDatasync = () => new Promise((r) => setTimeout(r, 2));
    const wal = await Wal.create(dir, metadata, { fs });
    const appenders = 32;
    const rounds = 10;
    let next = 0;
    let resolvedOutOfOrder = false;
    let lastResolved = 0;
    await Promise.all(
      Array.from({ length: appenders }, async () => {
        for (let r = 0; r < rounds; r++) {
          // The index is taken when save is called; the queue keeps them in order.
          const index = ++next;
          await wal.save(undefined, [entry(index, 1)]);
          if (index < lastResolved - appenders) resolvedOutOfOrder = true;
          lastResolved = Math.max(lastResolved, index);
        }
      }),
    );
    const stats = wal.stats();
    expect(stats.saves).toBe(appenders * rounds);
    expect(stats.recordsWritten).toBe(appenders * rounds);
    expect(stats.fsyncs).toBeLessThanOrEqual(rounds + 2);
    expect(stats.fsyncs).toBe(stats.writes);
    expect(resolvedOutOfOrder).toBe(false);
    await wal.close();

    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual(Array.from({ length: appenders * rounds }, (_, k) => k + 1));
    await r.wal.close();
  });
});

describe('a failed fsync', () => {
  it('rejects the waiting saves, poisons the WAL, and recovery keeps what was acknowledged', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    const wal = await Wal.create(dir, metadata, { fs });
    await wal.save({ term: 1, vote: 1n, commit: 0 }, [entry(1, 1), entry(2, 1)]);

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    fs.beforeDatasync = async () => {
      await gate;
      throw new Eio('fdatasync');
    };
    const syncsBefore = fs.datasyncs;
    const inflight = wal.save({ term: 1, vote: 1n, commit: 2 }, [entry(3, 1)]);
    await until(() => fs.datasyncs > syncsBefore);
    // Queued behind the failing fsync: it must not be written and reported durable later.
    const queued = wal.save(undefined, [entry(4, 1)]);
    release();

    const e1 = await inflight.catch((e: unknown) => e);
    const e2 = await queued.catch((e: unknown) => e);
    for (const e of [e1, e2]) {
      expect(e).toBeInstanceOf(WalError);
      expect(e).toMatchObject({ code: 'WAL_POISONED' });
      expect((e as WalError).cause).toBeInstanceOf(Eio);
    }
    // Even with a healthy disk again, later saves fail: a WAL that lost an fsync stays lost.
    fs.beforeDatasync = undefined;
    await expect(wal.save(undefined, [entry(5, 1)])).rejects.toMatchObject({ code: 'WAL_POISONED' });
    await expect(wal.saveSnapshotMarker({ index: 1, term: 1 })).rejects.toMatchObject({ code: 'WAL_POISONED' });
    expect(fs.datasyncs).toBe(syncsBefore + 1);
    await wal.close();

    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index).slice(0, 2)).toEqual([1, 2]);
    expect(r.entries.map((e) => e.index)).not.toContain(4);
    await r.wal.close();
  });

  it('poisons on a torn write too, and recovery cuts the torn half', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    const wal = await Wal.create(dir, metadata, { fs });
    await wal.save(undefined, [entry(1, 1), entry(2, 1)]);
    fs.tearWrite = (_file, bytes) => Math.floor(bytes / 2);
    await expect(wal.save(undefined, [entry(3, 1, 'x'.repeat(100))])).rejects.toMatchObject({ code: 'WAL_POISONED' });
    await expect(wal.save(undefined, [entry(3, 1)])).rejects.toMatchObject({ code: 'WAL_POISONED' });
    await wal.close();

    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(r.repair?.reason).toMatch(/runs past the end of the file/);
    await r.wal.save(undefined, [entry(3, 1)]);
    await r.wal.close();
  });

  it('poisons when a segment roll fails', async () => {
    const dir = await tempDir();
    const fs = new FaultyFs();
    const wal = await Wal.create(dir, metadata, { fs, segmentBytes: 1 });
    fs.beforeDatasync = (file) => {
      if (file.endsWith('.tmp')) throw new Eio('fdatasync of a new segment');
    };
    await expect(wal.save(undefined, [entry(1, 1)])).rejects.toMatchObject({ code: 'WAL_POISONED' });
    await wal.close();
    // The half-made segment was a temp file: it is not part of the WAL.
    const r = await Wal.open(dir);
    expect(r.entries).toEqual([]);
    await r.wal.close();
  });
});
