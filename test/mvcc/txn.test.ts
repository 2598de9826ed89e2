import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import {
  checkIntervals,
  checkTxnRequest,
  CompareResult,
  CompareTarget,
  MvccStore,
  type Compare,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
} from '../../src/mvcc/index.js';
import { AssertionError } from '../../src/util/index.js';
import { b, codeOf, open, putAll, show } from './helpers.js';

const { EQUAL, GREATER, LESS, NOT_EQUAL } = CompareResult;
const { VERSION, CREATE, MOD, VALUE, LEASE } = CompareTarget;

const put = (key: string, value = 'v', extra: object = {}): RequestOp => ({ requestPut: { key: b(key), value: b(value), ...extra } });
const get = (key: string, extra: object = {}): RequestOp => ({ requestRange: { key: b(key), ...extra } });
const delOp = (key: string, rangeEnd?: string): RequestOp => ({
  requestDeleteRange: rangeEnd === undefined ? { key: b(key) } : { key: b(key), rangeEnd: b(rangeEnd) },
});
const nested = (req: TxnRequest): RequestOp => ({ requestTxn: req });

/** a=x (version 2, created 2, mod 3, lease 5), b=y (version 1, created 4, mod 4). */
async function fixture(): Promise<MvccStore> {
  const { store } = await open();
  await putAll(store, ['a', 'w']);
  await store.put({ key: b('a'), value: b('x'), lease: 5n }, 2);
  await putAll(store, ['b', 'y']);
  return store;
}

async function holds(store: MvccStore, c: Compare): Promise<boolean> {
  return (await store.txn({ compare: [c] })).succeeded;
}

describe('txn: compares', () => {
  it('compares version, create and mod revision, value and lease', async () => {
    const store = await fixture();
    const a = b('a');
    expect(await holds(store, { key: a, target: VERSION, result: EQUAL, version: 2 })).toBe(true);
    expect(await holds(store, { key: a, target: VERSION, result: GREATER, version: 1 })).toBe(true);
    expect(await holds(store, { key: a, target: VERSION, result: LESS, version: 2 })).toBe(false);
    expect(await holds(store, { key: a, target: CREATE, result: EQUAL, createRevision: 2 })).toBe(true);
    expect(await holds(store, { key: a, target: MOD, result: NOT_EQUAL, modRevision: 3 })).toBe(false);
    expect(await holds(store, { key: a, target: MOD, result: LESS, modRevision: 4 })).toBe(true);
    expect(await holds(store, { key: a, target: VALUE, result: EQUAL, value: b('x') })).toBe(true);
    expect(await holds(store, { key: a, target: VALUE, result: GREATER, value: b('w') })).toBe(true);
    expect(await holds(store, { key: a, target: VALUE, result: LESS, value: b('xa') })).toBe(true);
    expect(await holds(store, { key: a, target: LEASE, result: EQUAL, lease: 5n })).toBe(true);
    expect(await holds(store, { key: b('b'), target: LEASE, result: EQUAL })).toBe(true); // absent field: 0
  });

  it('a missing key has version, create and mod 0 and lease 0; a value compare on it fails', async () => {
    const store = await fixture();
    const z = b('zz');
    expect(await holds(store, { key: z, target: VERSION, result: EQUAL, version: 0 })).toBe(true);
    expect(await holds(store, { key: z, target: CREATE, result: EQUAL, createRevision: 0 })).toBe(true);
    expect(await holds(store, { key: z, target: MOD, result: LESS, modRevision: 1 })).toBe(true);
    expect(await holds(store, { key: z, target: LEASE, result: EQUAL, lease: 0n })).toBe(true);
    expect(await holds(store, { key: z, target: VALUE, result: EQUAL, value: b('') })).toBe(false);
    expect(await holds(store, { key: z, target: VALUE, result: NOT_EQUAL, value: b('q') })).toBe(false);
  });

  it('a range compare holds when it holds for every key in the range', async () => {
    const store = await fixture();
    expect(await holds(store, { key: b('a'), rangeEnd: b('c'), target: CREATE, result: GREATER, createRevision: 1 })).toBe(true);
    expect(await holds(store, { key: b('a'), rangeEnd: b('c'), target: VERSION, result: EQUAL, version: 2 })).toBe(false);
    expect(await holds(store, { key: b('a'), rangeEnd: b('\0'), target: VALUE, result: GREATER, value: b('v') })).toBe(true);
    // An empty range compares like a missing key.
    expect(await holds(store, { key: b('m'), rangeEnd: b('n'), target: VERSION, result: EQUAL, version: 0 })).toBe(true);
    expect(await holds(store, { key: b('m'), rangeEnd: b('n'), target: VALUE, result: NOT_EQUAL })).toBe(false);
  });

  it('all compares must hold', async () => {
    const store = await fixture();
    const ok: Compare = { key: b('a'), target: VERSION, result: EQUAL, version: 2 };
    const bad: Compare = { key: b('b'), target: VERSION, result: EQUAL, version: 2 };
    expect((await store.txn({ compare: [ok, ok] })).succeeded).toBe(true);
    expect((await store.txn({ compare: [ok, bad] })).succeeded).toBe(false);
  });
});

describe('txn: execution', () => {
  it('runs the branch the compares choose, in one revision, reads seeing earlier writes', async () => {
    const store = await fixture();
    const r = await store.txn(
      {
        compare: [{ key: b('a'), target: VALUE, result: EQUAL, value: b('x') }],
        success: [get('c'), put('c', '1'), put('d', '2'), get('c'), delOp('a')],
        failure: [put('never')],
      },
      10,
    );
    const [r0, r1, r2, r3, r4] = r.responses as [ResponseOp, ResponseOp, ResponseOp, ResponseOp, ResponseOp];
    expect(r.succeeded).toBe(true);
    expect(r.rev).toBe(5);
    expect('responseRange' in r0 && [r0.responseRange.kvs.length, r0.responseRange.rev]).toEqual([0, 4]);
    expect('responsePut' in r1 && r1.responsePut.rev).toBe(5);
    expect('responsePut' in r2 && r2.responsePut.rev).toBe(5);
    expect('responseRange' in r3 && [r3.responseRange.kvs.map(show), r3.responseRange.rev]).toEqual([['c=1 c5 m5 v1'], 5]);
    expect('responseDeleteRange' in r4 && [r4.responseDeleteRange.deleted, r4.responseDeleteRange.rev]).toEqual([1, 5]);
    expect(r.events.map((e) => `${e.type} ${show(e.kv)}`)).toEqual(['0 c=1 c5 m5 v1', '0 d=2 c5 m5 v1', '1 a= c0 m5 v0']);
    expect([store.currentRev, store.consistentIndex()]).toEqual([5, 10]);
    const f = await store.txn({ compare: [{ key: b('a'), target: VERSION, result: GREATER }], success: [put('x')], failure: [get('c')] }, 11);
    expect([f.succeeded, f.rev, f.events.length, store.currentRev]).toEqual([false, 5, 0, 5]);
  });

  it('nested txns: compares are decided on the state before the txn; nested responses carry rev 0', async () => {
    const store = await fixture();
    const r = await store.txn(
      {
        success: [
          put('n', '1'),
          nested({
            // n does not exist before the txn, although the put above already ran.
            compare: [{ key: b('n'), target: VERSION, result: EQUAL, version: 0 }],
            success: [put('m', '2'), get('n')],
            failure: [put('wrong')],
          }),
          nested({ compare: [{ key: b('b'), target: VERSION, result: GREATER, version: 5 }], success: [], failure: [get('m')] }),
        ],
      },
      20,
    );
    const [, first, second] = r.responses as [ResponseOp, ResponseOp, ResponseOp];
    expect('responseTxn' in first && [first.responseTxn.succeeded, first.responseTxn.rev]).toEqual([true, 0]);
    const inner = 'responseTxn' in first ? (first.responseTxn.responses[1] as ResponseOp) : undefined;
    expect(inner !== undefined && 'responseRange' in inner && inner.responseRange.kvs.map(show)).toEqual(['n=1 c5 m5 v1']);
    const other = 'responseTxn' in second ? (second.responseTxn.responses[0] as ResponseOp) : undefined;
    expect(second !== undefined && 'responseTxn' in second && second.responseTxn.succeeded).toBe(false);
    expect(other !== undefined && 'responseRange' in other && other.responseRange.kvs.map(show)).toEqual(['m=2 c5 m5 v1']);
    expect([r.rev, store.currentRev]).toEqual([5, 5]);
  });

  it('a read-only txn needs no consistent index; a txn that writes does', async () => {
    const store = await fixture();
    const r = await store.txn({ success: [get('a')], failure: [get('b')] });
    expect([r.rev, r.events]).toEqual([4, []]);
    await expect(store.txn({ success: [put('a')] })).rejects.toThrow(AssertionError);
  });
});

describe('txn: checks before anything runs', () => {
  it('FutureRev and Compacted for ranges on the taken branch; nothing changes but the consistent index', async () => {
    const store = await fixture();
    await (await store.compact(3)).done;
    expect(await codeOf(store.txn({ success: [put('q'), get('a', { revision: 9 })] }, 30))).toBe('FutureRev');
    expect(await codeOf(store.txn({ success: [put('q'), get('a', { revision: 2 })] }, 31))).toBe('Compacted');
    // A negative revision is checked as is in a txn (etcd's checkRequestRange).
    expect(await codeOf(store.txn({ success: [get('a', { revision: -1 })] }, 32))).toBe('Compacted');
    // Checks only cover the branch taken.
    expect((await store.txn({ success: [], failure: [get('a', { revision: 2 })] }, 33)).succeeded).toBe(true);
    expect([store.currentRev, store.consistentIndex()]).toEqual([4, 33]);
    expect((await store.range(b('q'))).kvs).toEqual([]);
  });

  it('KeyNotFound for ignoreValue/ignoreLease of a missing key, LeaseNotFound for a missing lease', async () => {
    const { store } = await open(new MemoryLevel(), { leaseExists: (id) => id < 10n });
    await putAll(store, ['a', '1']);
    expect(await codeOf(store.txn({ success: [put('b', '', { ignoreValue: true })] }, 2))).toBe('KeyNotFound');
    expect(await codeOf(store.txn({ success: [put('a', '', { ignoreValue: true }), put('c', 'x', { lease: 11n })] }, 3))).toBe('LeaseNotFound');
    expect(store.currentRev).toBe(2);
  });

  it('refuses duplicate keys like etcd checkIntervals', async () => {
    const store = await fixture();
    const dup = async (ops: RequestOp[]): Promise<string> => codeOf(store.txn({ success: ops }, store.consistentIndex() + 1));
    expect(await dup([put('k'), put('k')])).toBe('DuplicateKey');
    expect(await dup([delOp('a', 'c'), put('b')])).toBe('DuplicateKey');
    expect(await dup([delOp('b'), put('b')])).toBe('DuplicateKey');
    expect(await dup([put('k'), nested({ success: [put('k')] })])).toBe('DuplicateKey');
    expect(await dup([nested({ success: [delOp('k')] }), put('k')])).toBe('DuplicateKey');
    // Branches exclude each other; deletes may overlap.
    expect(await dup([nested({ success: [put('k', '1')], failure: [put('k', '2')] })])).toBe('no error');
    expect(await dup([delOp('a', 'c'), delOp('b')])).toBe('no error');
    // etcd quirks kept: a later sibling's delete is not checked against an earlier sibling's put,
    // and a from-key delete collides with nothing.
    expect(await dup([nested({ success: [put('s')] }), nested({ success: [delOp('s')] })])).toBe('no error');
    expect(await dup([delOp('a', '\0'), put('b', 'new')])).toBe('no error');
    expect((await store.range(b('b'))).kvs.map(show)).toEqual([`b=new c${store.currentRev} m${store.currentRev} v1`]);
  });

  it('rolls back a txn that fails half-way (where etcd would panic) and reports KeyNotFound', async () => {
    const store = await fixture();
    const before = await store.range(b('\0'), b('\0'));
    const code = await codeOf(store.txn({ success: [put('c', '1'), delOp('a', '\0'), put('b', '', { ignoreValue: true })] }, 40));
    expect(code).toBe('KeyNotFound');
    expect(await store.range(b('\0'), b('\0'))).toEqual(before);
    expect([store.currentRev, store.consistentIndex(), store.stats().keys]).toEqual([4, 40, 2]);
    await putAll(store, ['c', '2']);
    expect((await store.range(b('c'))).kvs.map(show)).toEqual(['c=2 c5 m5 v1']);
  });

  it('checkTxnRequest: TooManyOps, EmptyKey, an empty op', () => {
    const many = Array.from({ length: 4 }, (_, i) => put(`k${i}`));
    expect(() => checkTxnRequest({ success: many }, 3)).toThrow(expect.objectContaining({ code: 'TooManyOps' }));
    expect(() => checkTxnRequest({ success: many }, 4)).not.toThrow();
    expect(() => checkTxnRequest({ success: [nested({ success: many })] }, 4)).toThrow(expect.objectContaining({ code: 'TooManyOps' }));
    expect(() => checkTxnRequest({ compare: [{ key: b(''), target: VERSION, result: EQUAL }] }, 10)).toThrow(
      expect.objectContaining({ code: 'EmptyKey' }),
    );
    expect(() => checkTxnRequest({ success: [{} as RequestOp] }, 10)).toThrow(expect.objectContaining({ code: 'KeyNotFound' }));
    expect([...checkIntervals([put('a'), nested({ success: [put('b')], failure: [put('b'), put('c')] })]).puts].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('txn: a store opened on the same database sees the same result', () => {
  it('replays identically', async () => {
    const db = new MemoryLevel();
    const store = await MvccStore.open(db);
    const req: TxnRequest = { compare: [{ key: b('a'), target: VERSION, result: EQUAL }], success: [put('a', '1'), put('b', '2')] };
    await store.txn(req, 1);
    await store.close();
    const again = await MvccStore.open(db);
    expect(again.isApplied(1)).toBe(true);
    expect((await again.range(b('a'), b('c'))).kvs.map(show)).toEqual(['a=1 c2 m2 v1', 'b=2 c2 m2 v1']);
  });
});
