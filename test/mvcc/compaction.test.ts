import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { MvccStore } from '../../src/mvcc/index.js';
import { encodeMetaU64, META_CONSISTENT_INDEX, META_FINISHED_COMPACT, META_SCHEDULED_COMPACT } from '../../src/mvcc/keyspace.js';
import { b, codeOf, del, open, putAll, records, show } from './helpers.js';

const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/**
 * a: put 2, put 3, put 5;  b: put 4, delete 6;  c: put 7, delete 8, put 9;  d: put 10.
 */
async function history(db = new MemoryLevel(), options = {}): Promise<{ db: MemoryLevel; store: MvccStore }> {
  const { store } = await open(db, options);
  await putAll(store, ['a', '1'], ['a', '2'], ['b', '1'], ['a', '3']);
  await del(store, 'b');
  await putAll(store, ['c', '1']);
  await del(store, 'c');
  await putAll(store, ['c', '2'], ['d', '1']);
  expect(store.currentRev).toBe(10);
  return { db, store };
}

async function meta(db: MemoryLevel, key: Buffer): Promise<number | undefined> {
  const v = await db.get<Buffer, Buffer>(key, BUFFERS);
  return v === undefined ? undefined : v.readUInt32BE(4);
}

describe('compaction', () => {
  it('refuses a revision in the future or not after the last compaction', async () => {
    const { store } = await history();
    expect(await codeOf(store.compact(11))).toBe('FutureRev');
    await store.compact(4);
    expect(await codeOf(store.compact(4))).toBe('Compacted');
    expect(await codeOf(store.compact(3))).toBe('Compacted');
    await (await store.compact(10)).done; // the current revision is fine
    expect(store.compactRev).toBe(10);
  });

  it('keeps per key the latest revision at or below rev, unless it is a tombstone', async () => {
    const { db, store } = await history();
    await (await store.compact(6)).done;
    // a keeps 5 (latest <= 6); b was deleted at 6: gone; c and d are after 6.
    expect(await records(db)).toEqual(['5.0 a', '7.0 c', '8.0 c t', '9.0 c', '10.0 d']);
    expect(store.stats()).toEqual({ keys: 3, revisions: 5 });
    expect((await store.range(b('\0'), b('\0'), { revision: 6 })).kvs.map(show)).toEqual(['a=3 c2 m5 v3']);
    expect((await store.range(b('\0'), b('\0'), { revision: 8 })).kvs.map(show)).toEqual(['a=3 c2 m5 v3']);
    await (await store.compact(8)).done;
    // c's generation ended at 8 <= 8: gone with its tombstone; the new one (9) stays.
    expect(await records(db)).toEqual(['5.0 a', '9.0 c', '10.0 d']);
    expect((await store.range(b('\0'), b('\0'))).kvs.map(show)).toEqual(['a=3 c2 m5 v3', 'c=2 c9 m9 v1', 'd=1 c10 m10 v1']);
  });

  it('fails reads below the compaction revision at once, before the records are gone', async () => {
    const { store } = await history(new MemoryLevel(), { compactionBatchSize: 1 });
    const handle = await store.compact(7);
    expect(await codeOf(store.range(b('a'), undefined, { revision: 6 }))).toBe('Compacted');
    expect((await store.range(b('a'), undefined, { revision: 7 })).kvs.map(show)).toEqual(['a=3 c2 m5 v3']);
    await handle.done;
  });

  it('records the compaction, with the consistent index, before returning; and its end when done', async () => {
    const { db, store } = await history();
    const handle = await store.compact(6, 77);
    expect([await meta(db, META_SCHEDULED_COMPACT), await meta(db, META_CONSISTENT_INDEX), store.consistentIndex()]).toEqual([6, 77, 77]);
    await handle.done;
    expect(await meta(db, META_FINISHED_COMPACT)).toBe(6);
    // A refused compaction still records its entry as applied.
    expect(await codeOf(store.compact(5, 78))).toBe('Compacted');
    expect([await meta(db, META_CONSISTENT_INDEX), store.consistentIndex()]).toEqual([78, 78]);
  });

  it('deletes in bounded batches, and writes keep going meanwhile', async () => {
    const db = new MemoryLevel();
    const { store } = await open(db, { compactionBatchSize: 2 });
    for (let i = 0; i < 20; i++) await putAll(store, ['k', String(i)]);
    const sizes: number[] = [];
    const original = db.batch.bind(db) as (ops: unknown[], o: unknown) => Promise<void>;
    (db as unknown as { batch: unknown }).batch = (ops: unknown[], o: unknown) => {
      sizes.push(ops.length);
      return original(ops, o);
    };
    const handle = await store.compact(21);
    await putAll(store, ['k', 'during']);
    await handle.done;
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3); // deletes: at most 2; the put: record + 2 meta
    expect(sizes.length).toBeGreaterThan(10);
    expect(await records(db)).toEqual(['21.0 k', '22.0 k']);
  });

  it('a read racing a compaction that deletes its records fails with Compacted', async () => {
    const { db, store } = await history();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    // Small reads use getSync, which no compaction can interleave with: make this one async.
    Object.defineProperty(db, 'supports', { value: { ...db.supports, getSync: false } });
    const original = db.getMany.bind(db) as (k: unknown[], o: unknown) => Promise<unknown>;
    (db as unknown as { getMany: unknown }).getMany = async (k: unknown[], o: unknown) => {
      await gate;
      return original(k, o);
    };
    const read = store.range(b('a'), undefined, { revision: 3 });
    await (await store.compact(6)).done;
    release();
    expect(await codeOf(read)).toBe('Compacted');
  });
});

describe('compaction: restart', () => {
  it('resumes a compaction that was scheduled but not finished', async () => {
    const { db, store } = await history();
    await store.close();
    // The crash: the scheduling batch made it to disk, the deletions did not.
    await db.put(META_SCHEDULED_COMPACT, encodeMetaU64(6), BUFFERS);
    const reopened = await MvccStore.open(db);
    expect(reopened.compactRev).toBe(6);
    expect(await codeOf(reopened.range(b('a'), undefined, { revision: 5 }))).toBe('Compacted');
    // The index is already trimmed; the records follow.
    expect(reopened.stats()).toEqual({ keys: 3, revisions: 5 });
    await reopened.compactionIdle();
    expect(await records(db)).toEqual(['5.0 a', '7.0 c', '8.0 c t', '9.0 c', '10.0 d']);
    expect(await meta(db, META_FINISHED_COMPACT)).toBe(6);
  });

  it('resumes after close() stopped it half-way, and the half-deleted history rebuilds right', async () => {
    const db = new MemoryLevel();
    const { store } = await history(db, { compactionBatchSize: 1 });
    const hashAt10 = (await store.hashKV()).hash;
    const handle = await store.compact(9);
    await store.close(); // stops it at the next batch
    await handle.done;
    const left = await records(db);
    expect(left.length).toBeGreaterThan(4);
    const reopened = await MvccStore.open(db, { compactionBatchSize: 1 });
    expect([reopened.compactRev, reopened.stats()]).toEqual([9, { keys: 3, revisions: 3 }]);
    expect((await reopened.hashKV()).hash).not.toBe(hashAt10); // the compaction changed what is kept
    const hashDuring = await reopened.hashKV();
    await reopened.compactionIdle();
    expect(await records(db)).toEqual(['5.0 a', '9.0 c', '10.0 d']);
    expect(await reopened.hashKV()).toEqual(hashDuring);
    expect((await reopened.range(b('\0'), b('\0'), { revision: 9 })).kvs.map(show)).toEqual(['a=3 c2 m5 v3', 'c=2 c9 m9 v1']);
  });
});

describe('hashKV', () => {
  it('is the same on members with the same history, whatever their compaction progress', async () => {
    const one = await history();
    const two = await history(new MemoryLevel(), { compactionBatchSize: 1 });
    expect(await one.store.hashKV()).toEqual(await two.store.hashKV());
    await (await one.store.compact(6)).done;
    const h2 = await two.store.compact(6);
    const during = await two.store.hashKV(8);
    await h2.done;
    expect(await one.store.hashKV(8)).toEqual(during);
    expect(await two.store.hashKV(8)).toEqual({ ...during, compactRevision: 6, revision: 8 });
  });

  it('differs when the history differs, and covers exactly the revisions asked for', async () => {
    const one = await history();
    const two = await history();
    expect(await one.store.hashKV(9)).toEqual(await two.store.hashKV(9));
    await putAll(two.store, ['e', 'x']);
    expect((await one.store.hashKV(10)).hash).toBe((await two.store.hashKV(10)).hash);
    expect((await one.store.hashKV()).hash).not.toBe((await two.store.hashKV()).hash);
    expect((await one.store.hashKV(9)).hash).not.toBe((await one.store.hashKV(10)).hash);
  });

  it('refuses future and compacted revisions', async () => {
    const { store } = await history();
    expect(await codeOf(store.hashKV(11))).toBe('FutureRev');
    await store.compact(5);
    expect(await codeOf(store.hashKV(4))).toBe('Compacted');
    expect((await store.hashKV(5)).revision).toBe(5);
    expect(await store.hashKV(0)).toEqual(await store.hashKV(10));
  });
});
