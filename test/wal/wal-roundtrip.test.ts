/**
 * What goes into the WAL comes back out: metadata, hard state (bigint vote), entries, markers,
 * across close/reopen and continued appending.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/util/assert.js';
import { Wal, WalError } from '../../src/wal/index.js';
import { decodeHardState, encodeHardState, packr } from '../../src/wal/payload.js';
import { describeEntries, entries, entry, metadata, tempDir } from './helpers.js';

describe('Wal round trip', () => {
  it('reads back metadata, the last hard state, the last marker and the entries', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    await wal.save({ term: 1, vote: 1n, commit: 0 }, entries(1, 3, 1));
    await wal.save({ term: 2, vote: 3n, commit: 2 }, [entry(4, 2, 'four', 1), entry(5, 2, '')]);
    await wal.saveSnapshotMarker({ index: 2, term: 1 });
    await wal.close();

    const r = await Wal.open(dir);
    expect(r.metadata).toEqual(metadata);
    expect(r.hardState).toEqual({ term: 2, vote: 3n, commit: 2 });
    expect(r.snapshot).toEqual({ index: 2, term: 1 });
    expect(r.snapshots).toEqual([
      { index: 0, term: 0 },
      { index: 2, term: 1 },
    ]);
    expect(describeEntries(r.entries)).toEqual([
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 1, 'e3'],
      [4, 2, 'four'],
      [5, 2, ''],
    ]);
    expect(r.entries[3]?.type).toBe(1);
    expect(r.entries[0]?.data).toBeInstanceOf(Uint8Array);
    expect(r.entries[0]?.data.constructor).toBe(Uint8Array);
    expect(r.repair).toBeUndefined();
    expect(r.wal.lastIndex()).toBe(5);
    await r.wal.close();
  });

  it('names the first segment <seq>-<firstIndex> in 16 hex digits and leaves no temp files', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(path.join(dir, 'member', 'wal'), metadata);
    await wal.close();
    expect(await readdir(path.join(dir, 'member', 'wal'))).toEqual(['0000000000000000-0000000000000000.wal']);
  });

  it('round-trips bigint votes of every width, and large safe indexes', async () => {
    for (const vote of [0n, 1n, 0xffff_ffffn, 12345678901234567n, (1n << 63n) - 1n, (1n << 64n) - 1n]) {
      const hs = { term: 2 ** 40, vote, commit: 2 ** 53 - 1 };
      expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    }
    // Opaque payloads (snapshot configurations) may hold bigints wider than 64 bits.
    const conf = { voters: [1n, (1n << 64n) - 1n], learners: [], huge: 1n << 70n };
    expect(packr.unpack(packr.pack(conf))).toEqual(conf);

    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    const base = 2 ** 40;
    await wal.saveSnapshotMarker({ index: base, term: 7 });
    await wal.save({ term: 7, vote: (1n << 64n) - 1n, commit: base + 1 }, [entry(base + 1, 7), entry(base + 2, 7)]);
    await wal.close();
    const r = await Wal.open(dir, { from: { index: base, term: 7 } });
    expect(r.hardState).toEqual({ term: 7, vote: (1n << 64n) - 1n, commit: base + 1 });
    expect(typeof r.hardState.vote).toBe('bigint');
    expect(r.entries.map((e) => e.index)).toEqual([base + 1, base + 2]);
    await r.wal.close();
  });

  it('keeps appending after a reopen, with the CRC chain continuing', async () => {
    const dir = await tempDir();
    let wal = await Wal.create(dir, metadata);
    await wal.save(undefined, entries(1, 2, 1));
    await wal.close();
    for (let round = 0; round < 3; round++) {
      const r = await Wal.open(dir);
      wal = r.wal;
      const next = r.entries.length + 1;
      await wal.save({ term: 1, vote: 0n, commit: next }, [entry(next, 1)]);
      await wal.close();
    }
    const r = await Wal.open(dir);
    expect(r.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(r.hardState.commit).toBe(5);
    await r.wal.close();
  });

  it('resolves an empty save once the earlier saves are durable', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    await wal.save(undefined, []);
    const first = wal.save(undefined, entries(1, 1, 1));
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await wal.save(undefined, []);
    expect(firstDone).toBe(true);
    await wal.close();
  });

  it('refuses what raft never hands in: gaps, non-contiguous batches, bad numbers', async () => {
    const dir = await tempDir();
    const wal = await Wal.create(dir, metadata);
    expect(() => wal.save(undefined, [entry(2, 1)])).toThrow(AssertionError);
    expect(() => wal.save(undefined, [entry(1, 1), entry(3, 1)])).toThrow(AssertionError);
    expect(() => wal.save(undefined, [entry(1, 2), entry(2, 1)])).toThrow(AssertionError);
    expect(() => wal.save({ term: 1, vote: -1n, commit: 0 }, [])).toThrow(AssertionError);
    expect(() => wal.save({ term: 1.5, vote: 0n, commit: 0 }, [])).toThrow(AssertionError);
    // Nothing half-queued by the refused calls.
    await wal.save(undefined, [entry(1, 1)]);
    expect(wal.stats().recordsWritten).toBe(1);
    await wal.close();
  });

  it('reports its errors with stable codes', async () => {
    const dir = await tempDir();
    await expect(Wal.open(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'WAL_NOT_FOUND' });
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: 'WAL_NOT_FOUND' });
    const wal = await Wal.create(dir, metadata);
    await expect(Wal.create(dir, metadata)).rejects.toMatchObject({ code: 'WAL_EXISTS' });
    await wal.close();
    await expect(wal.save(undefined, [entry(1, 1)])).rejects.toBeInstanceOf(WalError);
    await expect(wal.save(undefined, [entry(1, 1)])).rejects.toMatchObject({ code: 'WAL_CLOSED' });
  });
});
