import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { CompareResult, CompareTarget, MvccStore, type Event } from '../../src/mvcc/index.js';
import { Prng } from '../../src/util/index.js';
import { b, open, records, show } from './helpers.js';

describe('mvcc apply group', () => {
  it('writes many entries in one batch; outside reads see them only after commit; later txns in the group see earlier ones', async () => {
    const { db, store } = await open();
    let batches = 0;
    const batch = db.batch.bind(db);
    (db as unknown as { batch: typeof db.batch }).batch = ((...args: Parameters<typeof db.batch>) => {
      batches++;
      return batch(...args);
    }) as typeof db.batch;
    const g = store.beginGroup();
    await store.put({ key: b('a'), value: b('1') }, 1);
    await store.put({ key: b('b'), value: b('2') }, 2);
    // A txn in the group compares on what the group wrote: a's version is 1.
    const t = await store.txn({ compare: [{ key: b('a'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 1 }], success: [{ requestPut: { key: b('a'), value: b('3'), prevKv: true } }] }, 3);
    expect(t.succeeded).toBe(true);
    expect(t.rev).toBe(4);
    // Outside the group nothing moved yet.
    expect(store.currentRev).toBe(1);
    expect(store.consistentIndex()).toBe(0);
    expect((await store.range(b('a'))).kvs).toEqual([]);
    expect(batches).toBe(0);
    await g.commit();
    expect(batches).toBe(1);
    expect([store.currentRev, store.consistentIndex()]).toEqual([4, 3]);
    expect((await store.range(b('a'), b('c'))).kvs.map(show)).toEqual(['a=3 c2 m4 v2', 'b=2 c3 m3 v1']);
    expect(await records(db)).toEqual(['2.0 a', '3.0 b', '4.0 a']);
    // Reopened from the database: the same.
    const again = await MvccStore.open(db);
    expect([again.currentRev, again.consistentIndex()]).toEqual([4, 3]);
  });

  it('a group never committed (a crash) leaves nothing in the database', async () => {
    const db = new MemoryLevel();
    const { store } = await open(db);
    await store.put({ key: b('kept'), value: b('1') }, 1);
    store.beginGroup();
    await store.put({ key: b('lost'), value: b('1') }, 2);
    const again = await MvccStore.open(db);
    expect([again.currentRev, again.consistentIndex()]).toEqual([2, 1]);
    expect((await again.range(b('lost'))).kvs).toEqual([]);
  });

  it('gives the same results, events and database as applying one entry at a time', async () => {
    const prng = new Prng(11);
    const ops: ((s: MvccStore, ci: number) => Promise<{ events: readonly Event[] } | string>)[] = [];
    for (let i = 0; i < 300; i++) {
      const k = b(`k${prng.int(6)}`);
      const roll = prng.int(10);
      if (roll < 5) ops.push((s, ci) => s.put({ key: k, value: b(`v${i}`), prevKv: true }, ci));
      else if (roll < 7) ops.push((s, ci) => s.deleteRange({ key: b('k'), rangeEnd: k, prevKv: true }, ci));
      else if (roll < 9) {
        const modRevision = prng.int(50);
        ops.push((s, ci) =>
          s.txn({ compare: [{ key: k, target: CompareTarget.MOD, result: CompareResult.GREATER, modRevision }], success: [{ requestPut: { key: b(`j${i % 3}`), value: b('t') } }], failure: [{ requestRange: { key: k } }] }, ci),
        );
      } else {
        // Fails with an etcd error: only the consistent index moves.
        ops.push((s, ci) => s.put({ key: k, value: b('x'), ignoreLease: true, lease: 5n }, ci).catch((e: unknown) => String(e)));
      }
    }
    const one = await open();
    const grouped = await open();
    const a: unknown[] = [];
    const g: unknown[] = [];
    for (const [i, op] of ops.entries()) a.push(await op(one.store, i + 1));
    for (let i = 0; i < ops.length; ) {
      const group = grouped.store.beginGroup();
      const n = 1 + prng.int(20);
      for (let j = 0; j < n && i < ops.length; j++, i++) g.push(await (ops[i] as (typeof ops)[number])(grouped.store, i + 1));
      await group.commit();
    }
    expect(g).toEqual(a);
    expect(await records(grouped.db)).toEqual(await records(one.db));
    expect([grouped.store.currentRev, grouped.store.consistentIndex()]).toEqual([one.store.currentRev, one.store.consistentIndex()]);
    expect((await grouped.store.hashKV()).hash).toBe((await one.store.hashKV()).hash);
  });

  it('hands its batch to the database only once writeAfter resolves, readable meanwhile; close waits for it', async () => {
    let release!: () => void;
    const turn = new Promise<void>((r) => (release = r));
    const { db, store } = await open(new MemoryLevel(), { yieldToEventLoop: () => turn });
    await store.put({ key: b('a'), value: b('1') }, 1);
    const g = store.beginGroup();
    await store.put({ key: b('b'), value: b('2') }, 2);
    const written = g.commit();
    // Readable at once, from memory: the batch is not in the database yet.
    expect(store.currentRev).toBe(3);
    expect((await store.range(b('b'))).kvs.map(show)).toEqual(['b=2 c3 m3 v1']);
    expect(await records(db)).toEqual(['2.0 a']);
    const order: string[] = [];
    const closed = store.close().then(() => order.push('closed'));
    const done = written.then(() => order.push('written'));
    release();
    await Promise.all([closed, done]);
    expect(order).toEqual(['written', 'closed']);
    expect(await records(db)).toEqual(['2.0 a', '3.0 b']);
    const again = await MvccStore.open(db);
    expect([again.currentRev, again.consistentIndex()]).toEqual([3, 2]);
  });
});
