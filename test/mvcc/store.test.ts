import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { EventType, MvccStore, SortOrder, SortTarget, type RangeOptions } from '../../src/mvcc/index.js';
import { META_CONSISTENT_INDEX, META_CURRENT_REV } from '../../src/mvcc/keyspace.js';
import { AssertionError } from '../../src/util/index.js';
import { b, codeOf, del, keys, open, putAll, records, show, str } from './helpers.js';

describe('mvcc store: revisions', () => {
  it('starts at revision 1 with nothing compacted, as etcd', async () => {
    const { store } = await open();
    expect([store.currentRev, store.compactRev, store.consistentIndex()]).toEqual([1, -1, 0]);
    expect(await store.range(b('\0'), b('\0'))).toEqual({ kvs: [], more: false, count: 0, rev: 1 });
  });

  it('tracks create/mod revision and version through put, put, delete and re-create', async () => {
    const { store } = await open();
    await putAll(store, ['foo', 'a']);
    expect((await store.range(b('foo'))).kvs.map(show)).toEqual(['foo=a c2 m2 v1']);
    await putAll(store, ['foo', 'b']);
    expect((await store.range(b('foo'))).kvs.map(show)).toEqual(['foo=b c2 m3 v2']);
    expect(await del(store, 'foo')).toBe(1);
    expect((await store.range(b('foo'))).kvs).toEqual([]);
    expect(store.currentRev).toBe(4);
    await putAll(store, ['foo', 'c']);
    expect((await store.range(b('foo'))).kvs.map(show)).toEqual(['foo=c c5 m5 v1']);
    // History stays readable.
    const at = async (revision: number): Promise<string[]> => (await store.range(b('foo'), undefined, { revision })).kvs.map(show);
    expect(await at(1)).toEqual([]);
    expect(await at(2)).toEqual(['foo=a c2 m2 v1']);
    expect(await at(3)).toEqual(['foo=b c2 m3 v2']);
    expect(await at(4)).toEqual([]);
    expect(await at(5)).toEqual(['foo=c c5 m5 v1']);
  });

  it('a delete that deletes nothing and a read-only txn make no revision, but still record the consistent index', async () => {
    const { store } = await open();
    await putAll(store, ['k', 'v']);
    const d = await store.deleteRange({ key: b('nope') }, 7);
    expect([d.deleted, d.rev, d.events.length, store.currentRev, store.consistentIndex()]).toEqual([0, 2, 0, 2, 7]);
    const t = await store.txn({ success: [{ requestRange: { key: b('k') } }] }, 8);
    expect([t.rev, store.currentRev, store.consistentIndex()]).toEqual([2, 2, 8]);
  });

  it('numbers the changes of one write transaction by sub-revision, in one revision', async () => {
    const { db, store } = await open();
    await putAll(store, ['b', 'old']);
    const w = store.write();
    expect(w.main).toBe(3);
    await w.put(b('a'), b('1'));
    await w.put(b('c'), b('3'));
    await w.deleteRange(b('b'));
    const events = await w.end(10);
    expect(store.currentRev).toBe(3);
    expect(await records(db)).toEqual(['2.0 b', '3.0 a', '3.1 c', '3.2 b t']);
    expect(events.map((e) => [e.type, show(e.kv)])).toEqual([
      [EventType.PUT, 'a=1 c3 m3 v1'],
      [EventType.PUT, 'c=3 c3 m3 v1'],
      // etcd's DELETE event: only key and mod revision.
      [EventType.DELETE, 'b= c0 m3 v0'],
    ]);
  });

  it('writes tombstones, and a deleted key is visible at revisions before the delete', async () => {
    const { db, store } = await open();
    await putAll(store, ['a', '1'], ['b', '2']);
    expect(await del(store, 'a', 'z')).toBe(2);
    expect(await records(db)).toEqual(['2.0 a', '3.0 b', '4.0 a t', '4.1 b t']);
    expect(keys(await store.range(b('a'), b('z'), { revision: 3 }))).toEqual(['a', 'b']);
    expect(keys(await store.range(b('a'), b('z')))).toEqual([]);
  });
});

describe('mvcc store: range', () => {
  /** a..e with versions a:1 b:3 c:2 d:1 e:1; values chosen to sort differently from keys. */
  async function fixture(): Promise<MvccStore> {
    const { store } = await open();
    await putAll(store, ['a', 'z'], ['b', 'x'], ['c', 'y'], ['b', 'w'], ['d', 'v'], ['c', 'u'], ['b', 'q'], ['e', 'r']);
    return store;
  }
  const rangeKeys = async (store: MvccStore, key: string, end: string | undefined, o: RangeOptions = {}): Promise<string[]> =>
    keys(await store.range(b(key), end === undefined ? undefined : b(end), o));

  it('reads a single key, [key, end), from-key and all keys', async () => {
    const store = await fixture();
    expect(await rangeKeys(store, 'b', undefined)).toEqual(['b']);
    expect(await rangeKeys(store, 'bb', undefined)).toEqual([]);
    expect(await rangeKeys(store, 'b', 'd')).toEqual(['b', 'c']);
    expect(await rangeKeys(store, 'b', 'b\0')).toEqual(['b']);
    expect(await rangeKeys(store, 'c', '\0')).toEqual(['c', 'd', 'e']);
    expect(await rangeKeys(store, '\0', '\0')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await rangeKeys(store, 'd', 'b')).toEqual([]);
  });

  it('limit cuts, more says there were more, count counts all', async () => {
    const store = await fixture();
    const r = await store.range(b('a'), b('\0'), { limit: 2 });
    expect([keys(r), r.more, r.count, r.rev]).toEqual([['a', 'b'], true, 5, 9]);
    const exact = await store.range(b('a'), b('\0'), { limit: 5 });
    expect([keys(exact).length, exact.more, exact.count]).toEqual([5, false, 5]);
    const negative = await store.range(b('a'), b('\0'), { limit: -1 });
    expect([keys(negative).length, negative.more]).toEqual([5, false]);
  });

  it('countOnly returns only the count; keysOnly drops values but not the rest', async () => {
    const store = await fixture();
    expect(await store.range(b('a'), b('d'), { countOnly: true, limit: 1 })).toEqual({ kvs: [], more: false, count: 3, rev: 9 });
    const r = await store.range(b('b'), undefined, { keysOnly: true });
    expect(r.kvs.map(show)).toEqual(['b= c3 m8 v3']);
  });

  it('sorts like etcd', async () => {
    const store = await fixture();
    const sorted = (sortTarget: SortTarget, sortOrder: SortOrder, limit = 0): Promise<string[]> =>
      rangeKeys(store, 'a', '\0', { sortTarget, sortOrder, limit });
    expect(await sorted(SortTarget.KEY, SortOrder.NONE)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await sorted(SortTarget.KEY, SortOrder.ASCEND)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await sorted(SortTarget.KEY, SortOrder.DESCEND)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(await sorted(SortTarget.KEY, SortOrder.DESCEND, 2)).toEqual(['e', 'd']);
    // Ties keep key order.
    expect(await sorted(SortTarget.VERSION, SortOrder.ASCEND)).toEqual(['a', 'd', 'e', 'c', 'b']);
    expect(await sorted(SortTarget.VERSION, SortOrder.DESCEND)).toEqual(['b', 'c', 'a', 'd', 'e']);
    expect(await sorted(SortTarget.CREATE, SortOrder.DESCEND)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(await sorted(SortTarget.MOD, SortOrder.ASCEND)).toEqual(['a', 'd', 'c', 'b', 'e']);
    expect(await sorted(SortTarget.MOD, SortOrder.DESCEND, 2)).toEqual(['e', 'b']);
    expect(await sorted(SortTarget.VALUE, SortOrder.ASCEND)).toEqual(['b', 'e', 'c', 'd', 'a']);
    expect(await sorted(SortTarget.VALUE, SortOrder.DESCEND, 3)).toEqual(['a', 'd', 'c']);
    // etcd's quirk: a target other than KEY with order NONE sorts ascending, but only the first
    // limit + 1 keys in key order (a, b, c), then cuts to limit.
    const quirk = await store.range(b('a'), b('\0'), { sortTarget: SortTarget.VALUE, limit: 2 });
    expect([keys(quirk), quirk.more]).toEqual([['b', 'c'], true]);
    expect(await sorted(SortTarget.VERSION, SortOrder.NONE, 2)).toEqual(['a', 'c']);
    // With an explicit order every key is considered.
    expect(await sorted(SortTarget.VALUE, SortOrder.ASCEND, 2)).toEqual(['b', 'e']);
    const keysOnly = await store.range(b('a'), b('\0'), { sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND, keysOnly: true, limit: 1 });
    expect(keysOnly.kvs.map(show)).toEqual(['a= c2 m2 v1']);
  });

  it('reads past revisions; FutureRev above the current one; the response revision is the current one', async () => {
    const store = await fixture();
    const old = await store.range(b('b'), undefined, { revision: 5 });
    expect([old.kvs.map(show), old.rev]).toEqual([['b=w c3 m5 v2'], 9]);
    expect((await store.range(b('b'), undefined, { revision: -3 })).kvs.map(show)).toEqual(['b=q c3 m8 v3']);
    expect(await codeOf(store.range(b('b'), undefined, { revision: 10 }))).toBe('FutureRev');
    await (await store.compact(5)).done;
    expect(await codeOf(store.range(b('b'), undefined, { revision: 4 }))).toBe('Compacted');
    expect((await store.range(b('b'), undefined, { revision: 5 })).kvs.map(show)).toEqual(['b=w c3 m5 v2']);
  });

  it('filters on mod and create revision; count is before the filters, more after', async () => {
    const store = await fixture();
    const r = await store.range(b('a'), b('\0'), { minModRevision: 6, maxModRevision: 8 });
    expect([r.kvs.map(show), r.count]).toEqual([['b=q c3 m8 v3', 'c=u c4 m7 v2', 'd=v c6 m6 v1'], 5]);
    const c = await store.range(b('a'), b('\0'), { minCreateRevision: 3, maxCreateRevision: 4, limit: 1 });
    expect([keys(c), c.more, c.count]).toEqual([['b'], true, 5]);
  });

  it('refuses an empty key and invalid sort options', async () => {
    const store = await fixture();
    expect(await codeOf(store.range(b(''), undefined))).toBe('EmptyKey');
    expect(await codeOf(() => store.range(b('a'), undefined, { sortOrder: 3 as SortOrder }))).toBe('InvalidSortOption');
    expect(await codeOf(() => store.range(b('a'), undefined, { sortTarget: 9 as SortTarget }))).toBe('InvalidSortOption');
  });
});

describe('mvcc store: write transactions', () => {
  it('reads inside a WriteTxn see its writes; reads outside do not until end()', async () => {
    const { store } = await open();
    await putAll(store, ['a', '1']);
    const w = store.write();
    await w.put(b('a'), b('2'));
    await w.put(b('b'), b('3'));
    const inside = await w.range(b('a'), b('c'));
    expect([inside.kvs.map(show), inside.rev]).toEqual([['a=2 c2 m3 v2', 'b=3 c3 m3 v1'], 3]);
    const outside = await store.range(b('a'), b('c'));
    expect([outside.kvs.map(show), outside.rev]).toEqual([['a=1 c2 m2 v1'], 2]);
    expect(await codeOf(store.range(b('a'), undefined, { revision: 3 }))).toBe('FutureRev');
    await w.end(5);
    expect((await store.range(b('a'), b('c'))).kvs.map(show)).toEqual(['a=2 c2 m3 v2', 'b=3 c3 m3 v1']);
  });

  it('put: prevKv, ignoreValue, ignoreLease and their errors', async () => {
    const { store } = await open();
    await store.put({ key: b('k'), value: b('v1'), lease: 7n }, 1);
    const p = await store.put({ key: b('k'), value: b('v2'), prevKv: true }, 2);
    expect([p.rev, p.prevKv && show(p.prevKv), p.events.map((e) => e.prevKv && show(e.prevKv))]).toEqual([3, 'k=v1 c2 m2 v1 l7', ['k=v1 c2 m2 v1 l7']]);
    await store.put({ key: b('k'), value: b(''), ignoreValue: true, lease: 9n }, 3);
    expect((await store.range(b('k'))).kvs.map(show)).toEqual(['k=v2 c2 m4 v3 l9']);
    await store.put({ key: b('k'), value: b('v3'), ignoreLease: true }, 4);
    expect((await store.range(b('k'))).kvs.map(show)).toEqual(['k=v3 c2 m5 v4 l9']);
    expect(await codeOf(store.put({ key: b('nope'), ignoreValue: true }, 5))).toBe('KeyNotFound');
    expect(await codeOf(store.put({ key: b('nope'), value: b('x'), ignoreLease: true }, 6))).toBe('KeyNotFound');
    expect(await codeOf(store.put({ key: b('k'), value: b('x'), ignoreValue: true }, 7))).toBe('ValueProvided');
    expect(await codeOf(store.put({ key: b('k'), lease: 1n, ignoreLease: true }, 8))).toBe('LeaseProvided');
    expect(await codeOf(store.put({ key: b(''), value: b('x') }, 9))).toBe('EmptyKey');
    // Failed requests made no revision but count as applied.
    expect([store.currentRev, store.consistentIndex()]).toEqual([5, 9]);
  });

  it('put of a lease that does not exist fails with LeaseNotFound', async () => {
    const { store } = await open(new MemoryLevel(), { leaseExists: (id) => id === 1n });
    await store.put({ key: b('a'), value: b('x'), lease: 1n }, 1);
    expect(await codeOf(store.put({ key: b('a'), value: b('x'), lease: 2n }, 2))).toBe('LeaseNotFound');
    expect(store.currentRev).toBe(2);
  });

  it('deleteRange returns the deleted count and, when asked, the previous kvs', async () => {
    const { store } = await open();
    await putAll(store, ['a', '1'], ['b', '2'], ['c', '3']);
    const d = await store.deleteRange({ key: b('a'), rangeEnd: b('c'), prevKv: true }, 10);
    expect([d.deleted, d.rev, d.prevKvs.map(show), d.events.map((e) => e.prevKv && show(e.prevKv))]).toEqual([
      2,
      5,
      ['a=1 c2 m2 v1', 'b=2 c3 m3 v1'],
      ['a=1 c2 m2 v1', 'b=2 c3 m3 v1'],
    ]);
    const plain = await store.deleteRange({ key: b('c') }, 11);
    expect([plain.deleted, plain.prevKvs]).toEqual([1, []]);
  });

  it('is serialized: one WriteTxn at a time, one operation at a time, nothing after end()', async () => {
    const { store } = await open();
    const w = store.write();
    expect(() => store.write()).toThrow(AssertionError);
    await expect(store.compact(1)).rejects.toThrow(AssertionError);
    const first = w.put(b('a'), b('1'), { prevKv: true });
    await expect(w.put(b('b'), b('2'))).rejects.toThrow(AssertionError);
    await first;
    await w.end(1);
    await expect(w.put(b('c'), b('3'))).rejects.toThrow(AssertionError);
    await expect(w.end(2)).rejects.toThrow(AssertionError);
    const w2 = store.write();
    await expect(w2.end(0)).rejects.toThrow(AssertionError); // the consistent index went back
  });

  it('end() commits the records, the current revision and the consistent index in one batch', async () => {
    const db = new MemoryLevel();
    const batches: number[] = [];
    const original = db.batch.bind(db) as (ops: unknown[], o: unknown) => Promise<void>;
    (db as unknown as { batch: unknown }).batch = (ops: unknown[], o: unknown) => {
      batches.push(ops.length);
      return original(ops, o);
    };
    const { store } = await open(db);
    const w = store.write();
    await w.put(b('a'), b('1'));
    await w.put(b('b'), b('2'));
    await w.end(42, [{ type: 'put', key: b('lease/1'), value: b('x') }]);
    expect(batches).toEqual([5]); // 2 records + consistent index + current revision + the extra op
    expect([store.consistentIndex(), store.isApplied(42), store.isApplied(43)]).toEqual([42, true, false]);
    expect(await db.get(META_CONSISTENT_INDEX, { keyEncoding: 'buffer', valueEncoding: 'buffer' })).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 42]));
    expect(await db.get(META_CURRENT_REV, { keyEncoding: 'buffer', valueEncoding: 'buffer' })).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]));
    expect(await db.get('lease/1')).toBe('x');
    const w2 = store.write();
    await expect(w2.end(43, [{ type: 'put', key: b('r-mine'), value: b('') }])).rejects.toThrow(AssertionError);
  });

  it('a batch the database refuses changes nothing, and the store goes on', async () => {
    const { db, store } = await open();
    await putAll(store, ['a', '1']);
    const original = db.batch.bind(db);
    (db as unknown as { batch: unknown }).batch = () => Promise.reject(new Error('disk full'));
    const w = store.write();
    await w.put(b('a'), b('2'));
    await w.deleteRange(b('a'));
    await w.put(b('n'), b('new'));
    await expect(w.end(5)).rejects.toThrow('disk full');
    (db as unknown as { batch: unknown }).batch = original;
    expect([store.currentRev, store.consistentIndex(), store.stats()]).toEqual([2, 1, { keys: 1, revisions: 1 }]);
    expect((await store.range(b('\0'), b('\0'))).kvs.map(show)).toEqual(['a=1 c2 m2 v1']);
    await putAll(store, ['a', '3']);
    expect((await store.range(b('a'))).kvs.map(show)).toEqual(['a=3 c2 m3 v2']);
  });
});

describe('mvcc store: reopen', () => {
  it('rebuilds the same state from the database', async () => {
    const { db, store } = await open();
    await putAll(store, ['a', '1'], ['b', '2'], ['a', '3'], ['c', '4']);
    await del(store, 'b');
    await store.put({ key: b('b'), value: b('5'), lease: 3n }, 10);
    await del(store, 'c');
    await store.txn({ success: [{ requestPut: { key: b('d'), value: b('6') } }, { requestDeleteRange: { key: b('a') } }] }, 12);
    await (await store.compact(4)).done;
    await store.put({ key: b('d'), value: b('7') }, 13);
    const snapshot = async (s: MvccStore): Promise<unknown> => {
      const perRev: string[][] = [];
      for (let r = s.compactRev; r <= s.currentRev; r++) perRev.push((await s.range(b('\0'), b('\0'), { revision: r })).kvs.map(show));
      return [s.currentRev, s.compactRev, s.consistentIndex(), s.stats(), await s.hashKV(), perRev];
    };
    const before = await snapshot(store);
    await store.close();
    const reopened = await MvccStore.open(db);
    expect(await snapshot(reopened)).toEqual(before);
    // And it keeps going from there.
    await reopened.put({ key: b('a'), value: b('8') }, 14);
    expect((await reopened.range(b('a'))).kvs.map(show)).toEqual(['a=8 c11 m11 v1']);
  });

  it('keeps the current revision when every record has been compacted away', async () => {
    const { db, store } = await open();
    await putAll(store, ['a', '1']);
    await del(store, 'a');
    await (await store.compact(3)).done;
    await store.close();
    const reopened = await MvccStore.open(db);
    expect([reopened.currentRev, reopened.compactRev, reopened.stats()]).toEqual([3, 3, { keys: 0, revisions: 0 }]);
    expect(str((await reopened.put({ key: b('a'), value: b('x') }, 3)).events[0]?.kv.key ?? b(''))).toBe('a');
    expect(reopened.currentRev).toBe(4);
  });

  it('refuses a database whose records run past its current revision', async () => {
    const { db, store } = await open();
    await putAll(store, ['a', '1'], ['b', '2']);
    await store.close();
    await db.put(META_CURRENT_REV, Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await expect(MvccStore.open(db)).rejects.toThrow(AssertionError);
  });
});
