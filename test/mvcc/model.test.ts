/**
 * The model test: random sequences of put, deleteRange, range, txn, multi-op WriteTxns,
 * compaction, hashKV and reopen, from a seeded Prng, run against the store (on memory-level)
 * and against the simple model in model.ts; every result must agree (kvs, count, more,
 * revisions, events, errors). Reopening happens mid-sequence, often in the middle of a
 * compaction (tiny compaction batches), and must change nothing, not even hashKV.
 *
 * A failure names its seed and step; rerun one seed with MVCC_SEED=<seed> (MVCC_TRACE=1 prints
 * each step). MVCC_SEEDS=<n> runs n seeds instead of 60; MVCC_STATS=1 prints how often each
 * operation and error came up, to check the generator still reaches every path.
 */
import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { EtcdError } from '../../src/errors.js';
import {
  checkTxnRequest,
  CompareResult,
  CompareTarget,
  EventType,
  MvccStore,
  SortOrder,
  SortTarget,
  type Compare,
  type Event,
  type RangeOptions,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '../../src/mvcc/index.js';
import { Prng } from '../../src/util/prng.js';
import { Model, ModelError, normalizeKv, type Ev } from './model.js';

const KEYS = ['a', 'b', 'c', 'ab', 'a\x00', 'b\xff', '\x01', 'zz'];
const VALUE_BYTES = [0x00, 0x61, 0x62, 0xff];
const LEASES = [0n, 0n, 0n, 0n, 5n, 7n, 13n];
const leaseExists = (id: bigint): boolean => id !== 13n;

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const tally = new Map<string, number>();
const count = (what: string): void => {
  tally.set(what, (tally.get(what) ?? 0) + 1);
};

async function outcome<T>(f: () => Promise<T> | T): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await f() };
  } catch (e) {
    if (e instanceof EtcdError || e instanceof ModelError) {
      count(`error ${e.code}`);
      return { error: e.code };
    }
    throw e;
  }
}

function normEvents(events: readonly Event[]): Ev[] {
  return events.map((e) => {
    const ev: Ev = { type: e.type === EventType.PUT ? 'PUT' : 'DELETE', kv: normalizeKv(e.kv) };
    if (e.prevKv !== undefined) ev.prevKv = normalizeKv(e.prevKv);
    return ev;
  });
}

function normResponse(r: ResponseOp): unknown {
  if ('responseRange' in r) {
    const x = r.responseRange;
    return { range: { kvs: x.kvs.map(normalizeKv), more: x.more, count: x.count, rev: x.rev } };
  }
  if ('responsePut' in r) {
    const x = r.responsePut;
    return { put: x.prevKv === undefined ? { rev: x.rev } : { rev: x.rev, prevKv: normalizeKv(x.prevKv) } };
  }
  if ('responseDeleteRange' in r) {
    const x = r.responseDeleteRange;
    return { del: { rev: x.rev, deleted: x.deleted, prevKvs: x.prevKvs.map(normalizeKv) } };
  }
  return { txn: normTxn(r.responseTxn) };
}

function normTxn(t: TxnResponse): unknown {
  return { succeeded: t.succeeded, responses: t.responses.map(normResponse), rev: t.rev };
}

/** Generates requests over a small key space, so keys collide, get deleted and come back. */
class Gen {
  constructor(
    private readonly p: Prng,
    private readonly model: Model,
  ) {}

  key(): string {
    return this.p.pick(KEYS);
  }

  rangeEnd(key: string): string | undefined {
    const x = this.p.float();
    if (x < 0.4) return undefined;
    if (x < 0.55) return '\0';
    if (x < 0.6) return key + '\0';
    return this.p.pick(KEYS); // sometimes below key: an empty range
  }

  /** Key and range end, including "all keys" (\0, \0). */
  span(): { key: string; rangeEnd: string | undefined } {
    if (this.p.chance(0.1)) return { key: '\0', rangeEnd: '\0' };
    const key = this.key();
    return { key, rangeEnd: this.rangeEnd(key) };
  }

  value(): Buffer {
    const n = this.p.chance(0.1) ? 0 : this.p.range(1, 3);
    return Buffer.from(Array.from({ length: n }, () => this.p.pick(VALUE_BYTES)));
  }

  rev(): number {
    // Around the interesting edges: below/at the compaction, at/after the current revision.
    const lo = Math.max(this.model.compactRev - 1, -1);
    return this.p.range(lo, this.model.rev + 1);
  }

  rangeOptions(): RangeOptions {
    const o: Record<string, unknown> = {};
    if (this.p.chance(0.4)) o['limit'] = this.p.pick([0, 1, 2, 3, -1]);
    if (this.p.chance(0.35)) o['revision'] = this.p.chance(0.1) ? -1 : this.rev();
    if (this.p.chance(0.35)) o['sortOrder'] = this.p.pick([SortOrder.NONE, SortOrder.ASCEND, SortOrder.DESCEND]);
    if (this.p.chance(0.35)) o['sortTarget'] = this.p.pick([SortTarget.KEY, SortTarget.VERSION, SortTarget.CREATE, SortTarget.MOD, SortTarget.VALUE]);
    if (this.p.chance(0.1)) o['keysOnly'] = true;
    if (this.p.chance(0.1)) o['countOnly'] = true;
    for (const f of ['minModRevision', 'maxModRevision', 'minCreateRevision', 'maxCreateRevision']) {
      if (this.p.chance(0.08)) o[f] = this.p.range(0, this.model.rev + 1);
    }
    return o as RangeOptions;
  }

  putOptions(): { lease?: bigint; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } {
    const o: { lease?: bigint; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean } = {};
    if (this.p.chance(0.5)) o.lease = this.p.pick(LEASES);
    if (this.p.chance(0.3)) o.prevKv = true;
    if (this.p.chance(0.1)) o.ignoreValue = true;
    if (this.p.chance(0.1)) {
      o.ignoreLease = true;
      if (this.p.chance(0.8)) o.lease = 0n;
    }
    return o;
  }

  putValue(o: { ignoreValue?: boolean }): Buffer {
    return o.ignoreValue === true && this.p.chance(0.85) ? Buffer.alloc(0) : this.value();
  }

  compare(): Compare {
    const key = this.key();
    const rangeEnd = this.p.chance(0.25) ? this.rangeEnd(key) : undefined;
    const target = this.p.pick([CompareTarget.VERSION, CompareTarget.CREATE, CompareTarget.MOD, CompareTarget.VALUE, CompareTarget.LEASE]);
    const result = this.p.pick([CompareResult.EQUAL, CompareResult.GREATER, CompareResult.LESS, CompareResult.NOT_EQUAL]);
    const c: Record<string, unknown> = { key: bytes(key), result, target };
    if (rangeEnd !== undefined) c['rangeEnd'] = bytes(rangeEnd);
    // Mostly values the state really has, so compares succeed as well as fail.
    const existing = this.model.kvAt(key, this.model.rev);
    if (target === CompareTarget.VALUE) c['value'] = existing !== undefined && this.p.chance(0.6) ? Buffer.from(existing.value, 'hex') : this.value();
    if (target === CompareTarget.VERSION) c['version'] = existing !== undefined && this.p.chance(0.6) ? existing.version : this.p.range(0, 3);
    if (target === CompareTarget.CREATE) c['createRevision'] = existing !== undefined && this.p.chance(0.6) ? existing.create : this.rev();
    if (target === CompareTarget.MOD) c['modRevision'] = existing !== undefined && this.p.chance(0.6) ? existing.mod : this.rev();
    if (target === CompareTarget.LEASE) c['lease'] = this.p.pick(LEASES);
    // Sometimes the field is absent: etcd compares against its zero value.
    if (this.p.chance(0.2)) for (const f of ['value', 'version', 'createRevision', 'modRevision', 'lease']) delete c[f];
    return c as unknown as Compare;
  }

  op(depth: number): RequestOp {
    const x = this.p.float();
    if (x < 0.3) {
      const { key, rangeEnd } = this.span();
      return { requestRange: { key: bytes(key), ...(rangeEnd === undefined ? {} : { rangeEnd: bytes(rangeEnd) }), ...this.rangeOptions() } };
    }
    if (x < 0.65) {
      const o = this.putOptions();
      return { requestPut: { key: bytes(this.key()), value: this.putValue(o), ...o } };
    }
    if (x < 0.85 || depth >= 2) {
      const { key, rangeEnd } = this.span();
      return { requestDeleteRange: { key: bytes(key), ...(rangeEnd === undefined ? {} : { rangeEnd: bytes(rangeEnd) }), prevKv: this.p.chance(0.4) } };
    }
    return { requestTxn: this.txn(depth + 1) };
  }

  txn(depth: number): TxnRequest {
    const n = (max: number): number => this.p.range(0, max);
    const make = (): TxnRequest => ({
      compare: Array.from({ length: n(3) }, () => this.compare()),
      success: Array.from({ length: n(4) }, () => this.op(depth)),
      failure: Array.from({ length: n(3) }, () => this.op(depth)),
    });
    // Most random txns over 8 keys put some key twice (DuplicateKey); keep only some of those.
    for (let tries = 0; ; tries++) {
      const req = make();
      if (depth > 0 || tries >= 5 || this.p.chance(0.15)) return req;
      try {
        checkTxnRequest(req, Number.POSITIVE_INFINITY);
        return req;
      } catch {
        // generate another
      }
    }
  }
}

async function runSeed(seed: number, steps: number): Promise<void> {
  const p = new Prng(seed);
  const db = new MemoryLevel();
  const options = { leaseExists, compactionBatchSize: p.range(1, 4) };
  let store = await MvccStore.open(db, options);
  const model = new Model(leaseExists);
  const gen = new Gen(p, model);
  let ci = 0;
  let where = '';
  const same = (a: unknown, b: unknown): void => {
    expect(a, `SEED=${seed} ${where}`).toEqual(b);
  };

  for (let step = 0; step < steps; step++) {
    const x = p.float();
    if (x < 0.22) {
      const key = gen.key();
      const o = gen.putOptions();
      const value = gen.putValue(o);
      where = `step ${step}: put ${JSON.stringify(key)} ${JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
      ci++;
      const got = await outcome(async () => {
        const r = await store.put({ key: bytes(key), value, ...o }, ci);
        return { rev: r.rev, prevKv: r.prevKv === undefined ? undefined : normalizeKv(r.prevKv), events: normEvents(r.events) };
      });
      const want = await outcome(() => {
        model.begin();
        try {
          const r = model.put(key, hexOf(value), { ...o, checkLease: true });
          return { ...r, prevKv: r.prevKv, events: model.end(ci) };
        } catch (e) {
          model.rollback();
          model.end(ci);
          throw e;
        }
      });
      same(got, want);
    } else if (x < 0.32) {
      const { key, rangeEnd } = gen.span();
      const prevKv = p.chance(0.4);
      where = `step ${step}: deleteRange ${JSON.stringify([key, rangeEnd])}`;
      ci++;
      const got = await outcome(async () => {
        const r = await store.deleteRange({ key: bytes(key), ...(rangeEnd === undefined ? {} : { rangeEnd: bytes(rangeEnd) }), prevKv }, ci);
        return { rev: r.rev, deleted: r.deleted, prevKvs: r.prevKvs.map(normalizeKv), events: normEvents(r.events) };
      });
      model.begin();
      const want = { ok: { ...model.deleteRange(key, rangeEnd, { prevKv }), events: model.end(ci) } };
      same(got, want);
    } else if (x < 0.55) {
      const { key, rangeEnd } = gen.span();
      const o = gen.rangeOptions();
      where = `step ${step}: range ${JSON.stringify([key, rangeEnd, o])}`;
      const got = await outcome(async () => {
        const r = await store.range(bytes(key), rangeEnd === undefined ? undefined : bytes(rangeEnd), o);
        return { kvs: r.kvs.map(normalizeKv), more: r.more, count: r.count, rev: r.rev };
      });
      same(got, await outcome(() => model.range(key, rangeEnd, o)));
    } else if (x < 0.77) {
      const req = gen.txn(0);
      const readOnly = [...(req.success ?? []), ...(req.failure ?? [])].every((op) => 'requestRange' in op);
      const txnCi = readOnly && p.chance(0.5) ? undefined : ++ci;
      where = `step ${step}: txn (ci ${String(txnCi)})`;
      const got = await outcome(async () => {
        const r = await store.txn(req, txnCi);
        return { response: normTxn(r), events: normEvents(r.events) };
      });
      same(got, await outcome(() => model.txn(req, txnCi)));
    } else if (x < 0.85) {
      // A WriteTxn with several operations, each of which may fail on its own.
      ci++;
      where = `step ${step}: write txn`;
      const w = store.write();
      model.begin();
      const n = p.range(0, 4);
      for (let i = 0; i < n; i++) {
        const y = p.float();
        const { key, rangeEnd } = gen.span();
        const end = rangeEnd === undefined ? undefined : bytes(rangeEnd);
        if (y < 0.45) {
          const o = gen.putOptions();
          const value = gen.putValue(o);
          const got = await outcome(async () => {
            const r = await w.put(bytes(key), value, o);
            return { rev: r.rev, prevKv: r.prevKv === undefined ? undefined : normalizeKv(r.prevKv) };
          });
          same(got, await outcome(() => model.put(key, hexOf(value), o)));
        } else if (y < 0.7) {
          const got = await outcome(async () => {
            const r = await w.deleteRange(bytes(key), end, { prevKv: true });
            return { rev: r.rev, deleted: r.deleted, prevKvs: r.prevKvs.map(normalizeKv) };
          });
          same(got, await outcome(() => model.deleteRange(key, rangeEnd, { prevKv: true })));
        } else {
          const o = gen.rangeOptions();
          const got = await outcome(async () => {
            const r = await w.range(bytes(key), end, o);
            return { kvs: r.kvs.map(normalizeKv), more: r.more, count: r.count, rev: r.rev };
          });
          same(got, await outcome(() => model.range(key, rangeEnd, o)));
        }
      }
      same(normEvents(await w.end(ci)), model.end(ci));
    } else if (x < 0.91) {
      const r = gen.rev();
      const withCi = p.chance(0.5) ? ++ci : undefined;
      where = `step ${step}: compact ${r}`;
      const got = await outcome(async () => {
        const h = await store.compact(r, withCi);
        if (p.chance(0.3)) {
          // The hash does not depend on how far the physical compaction got.
          const before = await store.hashKV();
          await h.done;
          same(await store.hashKV(), before);
        }
        return 'ok';
      });
      same(got, await outcome(() => (model.compact(r, withCi), 'ok')));
    } else if (x < 0.96) {
      where = `step ${step}: reopen`;
      if (p.chance(0.5)) await store.compactionIdle();
      const hash = await store.hashKV();
      await store.close();
      store = await MvccStore.open(db, options);
      same(await store.hashKV(), hash);
      same(store.consistentIndex(), model.consistentIndex);
    } else {
      const r = p.chance(0.3) ? 0 : gen.rev();
      where = `step ${step}: hashKV ${r}`;
      const got = await outcome(async () => (await store.hashKV(r)).revision);
      const want = await outcome(() => {
        if (r > 0 && r < model.compactRev) throw new ModelError('Compacted');
        if (r > model.rev) throw new ModelError('FutureRev');
        return r <= 0 ? model.rev : r;
      });
      same(got, want);
    }
    same([store.currentRev, store.compactRev, store.consistentIndex()], [model.rev, model.compactRev, model.consistentIndex]);
    if (process.env['MVCC_TRACE'] !== undefined) console.log(where);
    count(where.replace(/^step \d+: /, '').split(' ')[0] ?? '');
  }

  // Every revision still readable, in full, agrees.
  where = 'final state';
  for (let r = Math.max(model.compactRev, 1); r <= model.rev; r++) {
    const got = await store.range(bytes('\0'), bytes('\0'), { revision: r });
    same({ kvs: got.kvs.map(normalizeKv), count: got.count }, (({ kvs, count }) => ({ kvs, count }))(model.range('\0', '\0', { revision: r })));
  }
  await store.compactionIdle();
  await store.close();
}

const ONE_SEED = process.env['MVCC_SEED'];
const SEEDS = ONE_SEED !== undefined ? [Number(ONE_SEED)] : Array.from({ length: Number(process.env['MVCC_SEEDS'] ?? 60) }, (_, i) => i + 1);

describe('mvcc: the store agrees with a simple model on random operations', () => {
  it(`agrees over ${SEEDS.length} seeds`, async () => {
    for (const seed of SEEDS) await runSeed(seed, 250);
    if (process.env['MVCC_STATS'] !== undefined) console.log([...tally].sort());
  });
});
