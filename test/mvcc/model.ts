/**
 * A deliberately simple model of etcd's MVCC semantics, written independently of src/mvcc's
 * data structures: the whole history is a list of changes per key, and every question ("what is
 * key k at revision r?") is answered by replaying that list. No generations, no index, no
 * database, no compaction of data (compaction only moves the revision below which reads fail).
 *
 * Results are returned in a plain comparable shape (keys as latin1 strings, values as hex,
 * leases as decimal strings, errors as their catalog code), the same shape `normalize*` below
 * gives the store's results.
 *
 * Request validation (EmptyKey, DuplicateKey, ...) is not modelled: it is stateless and has its
 * own tests (request-checks.test.ts); the model calls the same checkTxnRequest.
 */
import { EtcdError } from '../../src/errors.js';
import {
  checkTxnRequest,
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type Compare,
  type KeyValue,
  type RangeOptions,
  type RequestOp,
  type TxnRequest,
} from '../../src/mvcc/index.js';

export interface Kv {
  key: string;
  create: number;
  mod: number;
  version: number;
  value: string;
  lease: string;
}

export interface Ev {
  type: 'PUT' | 'DELETE';
  kv: Kv;
  prevKv?: Kv;
}

export type Outcome<T> = { ok: T } | { error: string };

export interface RangeOut {
  kvs: Kv[];
  more: boolean;
  count: number;
  rev: number;
}

interface Change {
  main: number;
  sub: number;
  deleted: boolean;
  value: string;
  lease: bigint;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const hex = (b: Uint8Array | undefined): string => (b === undefined ? '' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));

export function normalizeKv(kv: KeyValue): Kv {
  return {
    key: latin1(kv.key),
    create: kv.createRevision,
    mod: kv.modRevision,
    version: kv.version,
    value: hex(kv.value),
    lease: kv.lease.toString(),
  };
}

function fail(code: string): never {
  throw new ModelError(code);
}

/** An expected failure in the model, carrying the catalog code the store must throw. */
export class ModelError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

export class Model {
  rev = 1;
  compactRev = -1;
  consistentIndex = 0;
  private readonly history = new Map<string, Change[]>();
  /** Changes of the txn being applied (main = rev + 1), in sub order. */
  private pending: { key: string; change: Change }[] = [];

  constructor(private readonly leaseExists: (id: bigint) => boolean) {}

  // --- reading ---------------------------------------------------------------------------

  /** Key k at revision r, by replaying its changes. */
  kvAt(key: string, r: number): Kv | undefined {
    let cur: Kv | undefined;
    for (const c of this.changesOf(key)) {
      if (c.main > r) break;
      if (c.deleted) cur = undefined;
      else
        cur = {
          key,
          create: cur === undefined ? c.main : cur.create,
          mod: c.main,
          version: cur === undefined ? 1 : cur.version + 1,
          value: c.value,
          lease: c.lease.toString(),
        };
    }
    return cur;
  }

  private changesOf(key: string): Change[] {
    const committed = this.history.get(key) ?? [];
    const mine = this.pending.filter((p) => p.key === key).map((p) => p.change);
    return mine.length === 0 ? committed : [...committed, ...mine];
  }

  private allKeys(): string[] {
    const keys = new Set(this.history.keys());
    for (const p of this.pending) keys.add(p.key);
    return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The keys a (key, rangeEnd) pair names, existing at r, in byte order. */
  keysIn(key: string, rangeEnd: string | undefined, r: number): string[] {
    const inRange = (k: string): boolean => {
      if (rangeEnd === undefined || rangeEnd === '') return k === key;
      if (rangeEnd === '\0') return k >= key;
      return k >= key && k < rangeEnd;
    };
    return this.allKeys().filter((k) => inRange(k) && this.kvAt(k, r) !== undefined);
  }

  /** The revision reads see: the txn's own once it changed something. */
  private viewRev(): number {
    return this.pending.length > 0 ? this.rev + 1 : this.rev;
  }

  range(key: string, rangeEnd: string | undefined, o: RangeOptions): RangeOut {
    const view = this.viewRev();
    const requested = o.revision ?? 0;
    if (requested > view) fail('FutureRev');
    const r = requested <= 0 ? view : requested;
    if (r < this.compactRev) fail('Compacted');
    const keys = this.keysIn(key, rangeEnd, r);
    if (o.countOnly === true) return { kvs: [], more: false, count: keys.length, rev: view };
    let kvs = keys.map((k) => this.kvAt(k, r) as Kv);
    const limit = o.limit ?? 0;
    const order = o.sortOrder ?? SortOrder.NONE;
    const target = o.sortTarget ?? SortTarget.KEY;
    const [minMod, maxMod, minCreate, maxCreate] = [o.minModRevision ?? 0, o.maxModRevision ?? 0, o.minCreateRevision ?? 0, o.maxCreateRevision ?? 0];
    const filters = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
    // etcd only looks past limit + 1 keys when it has to sort or filter.
    if (order === SortOrder.NONE && !filters && limit > 0) kvs = kvs.slice(0, limit + 1);
    if (maxMod !== 0) kvs = kvs.filter((kv) => kv.mod <= maxMod);
    if (minMod !== 0) kvs = kvs.filter((kv) => kv.mod >= minMod);
    if (maxCreate !== 0) kvs = kvs.filter((kv) => kv.create <= maxCreate);
    if (minCreate !== 0) kvs = kvs.filter((kv) => kv.create >= minCreate);
    const effective = target !== SortTarget.KEY && order === SortOrder.NONE ? SortOrder.ASCEND : order;
    if (effective !== SortOrder.NONE) {
      const field = (kv: Kv): number | string =>
        target === SortTarget.KEY
          ? kv.key
          : target === SortTarget.VERSION
            ? kv.version
            : target === SortTarget.CREATE
              ? kv.create
              : target === SortTarget.MOD
                ? kv.mod
                : kv.value; // hex of the bytes sorts like the bytes
      const dir = effective === SortOrder.DESCEND ? -1 : 1;
      kvs = [...kvs].sort((a, b) => {
        const x = field(a);
        const y = field(b);
        return x < y ? -dir : x > y ? dir : 0;
      });
    }
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (o.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: '' }));
    return { kvs, more, count: keys.length, rev: view };
  }

  // --- writing -----------------------------------------------------------------------------

  begin(): void {
    if (this.pending.length !== 0) throw new Error('model: nested begin');
  }

  /** Ends the txn: one revision if it changed anything. */
  end(ci: number): Ev[] {
    if (this.pending.length > 0) {
      this.rev++;
      for (const { key, change } of this.pending) {
        const list = this.history.get(key) ?? [];
        list.push(change);
        this.history.set(key, list);
      }
    }
    const events = this.events;
    this.pending = [];
    this.events = [];
    this.consistentIndex = ci;
    return events;
  }

  rollback(): void {
    this.pending = [];
    this.events = [];
  }

  private events: Ev[] = [];

  put(
    key: string,
    value: string,
    o: { lease?: bigint; prevKv?: boolean; ignoreValue?: boolean; ignoreLease?: boolean; checkLease?: boolean },
  ): { rev: number; prevKv?: Kv } {
    if (o.ignoreValue === true && value !== '') fail('ValueProvided');
    if (o.ignoreLease === true && (o.lease ?? 0n) !== 0n) fail('LeaseProvided');
    // A plain PutRequest checks its lease first; inside a WriteTxn or txn that is the caller's job.
    if (o.checkLease === true && (o.lease ?? 0n) !== 0n && !this.leaseExists(o.lease ?? 0n)) fail('LeaseNotFound');
    const prev = this.kvAt(key, this.rev + 1);
    if ((o.ignoreValue === true || o.ignoreLease === true) && prev === undefined) fail('KeyNotFound');
    const change: Change = {
      main: this.rev + 1,
      sub: this.pending.length,
      deleted: false,
      value: o.ignoreValue === true ? (prev as Kv).value : value,
      lease: o.ignoreLease === true ? BigInt((prev as Kv).lease) : (o.lease ?? 0n),
    };
    this.pending.push({ key, change });
    const kv = this.kvAt(key, this.rev + 1) as Kv;
    const withPrev = o.prevKv === true && prev !== undefined;
    this.events.push(withPrev ? { type: 'PUT', kv, prevKv: prev } : { type: 'PUT', kv });
    return withPrev ? { rev: this.rev + 1, prevKv: prev } : { rev: this.rev + 1 };
  }

  deleteRange(key: string, rangeEnd: string | undefined, o: { prevKv?: boolean }): { rev: number; deleted: number; prevKvs: Kv[] } {
    const at = this.rev + 1;
    const keys = this.keysIn(key, rangeEnd, at);
    const prevs = keys.map((k) => this.kvAt(k, at) as Kv);
    for (const [i, k] of keys.entries()) {
      this.pending.push({ key: k, change: { main: at, sub: this.pending.length, deleted: true, value: '', lease: 0n } });
      const kv: Kv = { key: k, create: 0, mod: at, version: 0, value: '', lease: '0' };
      this.events.push(o.prevKv === true ? { type: 'DELETE', kv, prevKv: prevs[i] as Kv } : { type: 'DELETE', kv });
    }
    return { rev: this.viewRev(), deleted: keys.length, prevKvs: o.prevKv === true ? prevs : [] };
  }

  // --- txn ---------------------------------------------------------------------------------

  compare(c: Compare): boolean {
    const key = latin1(c.key);
    const end = c.rangeEnd === undefined ? undefined : latin1(c.rangeEnd);
    const keys = this.keysIn(key, end, this.rev);
    const zero: Kv = { key, create: 0, mod: 0, version: 0, value: '', lease: '0' };
    if (keys.length === 0 && c.target === CompareTarget.VALUE) return false;
    const kvs = keys.length === 0 ? [zero] : keys.map((k) => this.kvAt(k, this.rev) as Kv);
    return kvs.every((kv) => {
      let cmp: number;
      if (c.target === CompareTarget.VALUE) {
        const want = hex(c.value);
        cmp = kv.value < want ? -1 : kv.value > want ? 1 : 0;
      } else if (c.target === CompareTarget.LEASE) {
        const have = BigInt(kv.lease);
        const want = c.lease ?? 0n;
        cmp = have < want ? -1 : have > want ? 1 : 0;
      } else {
        const have = c.target === CompareTarget.VERSION ? kv.version : c.target === CompareTarget.CREATE ? kv.create : kv.mod;
        const want = (c.target === CompareTarget.VERSION ? c.version : c.target === CompareTarget.CREATE ? c.createRevision : c.modRevision) ?? 0;
        cmp = Math.sign(have - want);
      }
      switch (c.result) {
        case CompareResult.EQUAL:
          return cmp === 0;
        case CompareResult.NOT_EQUAL:
          return cmp !== 0;
        case CompareResult.GREATER:
          return cmp > 0;
        case CompareResult.LESS:
          return cmp < 0;
      }
      return true;
    });
  }

  /** The whole txn; returns its comparable response. `ci` undefined: a read-only txn. */
  txn(req: TxnRequest, ci: number | undefined): { response: unknown; events: Ev[] } {
    this.begin();
    try {
      checkTxnRequest(req, Number.POSITIVE_INFINITY);
      // Decide every branch on the state before the txn, then check the ops on those branches.
      const decide = (t: TxnRequest): { ok: boolean; ops: readonly RequestOp[] } => {
        const ok = (t.compare ?? []).every((c) => this.compare(c));
        return { ok, ops: (ok ? t.success : t.failure) ?? [] };
      };
      const check = (t: TxnRequest): void => {
        for (const op of decide(t).ops) {
          if ('requestRange' in op) {
            const r = op.requestRange.revision ?? 0;
            if (r !== 0 && r > this.rev) fail('FutureRev');
            if (r !== 0 && r < this.compactRev) fail('Compacted');
          } else if ('requestPut' in op) {
            const p = op.requestPut;
            if ((p.ignoreValue === true || p.ignoreLease === true) && this.kvAt(latin1(p.key), this.rev) === undefined) fail('KeyNotFound');
            if ((p.lease ?? 0n) !== 0n && !this.leaseExists(p.lease ?? 0n)) fail('LeaseNotFound');
          } else if ('requestTxn' in op) {
            check(op.requestTxn);
          }
        }
      };
      check(req);
      const paths = new Map<TxnRequest, ReturnType<typeof decide>>();
      const decideAll = (t: TxnRequest): void => {
        const d = decide(t);
        paths.set(t, d);
        for (const op of d.ops) if ('requestTxn' in op) decideAll(op.requestTxn);
      };
      decideAll(req);
      const run = (t: TxnRequest): { succeeded: boolean; responses: unknown[]; rev: number } => {
        const d = paths.get(t) as ReturnType<typeof decide>;
        const responses: unknown[] = [];
        for (const op of d.ops) {
          if ('requestRange' in op) {
            const r = op.requestRange;
            responses.push({ range: this.range(latin1(r.key), r.rangeEnd === undefined ? undefined : latin1(r.rangeEnd), r) });
          } else if ('requestPut' in op) {
            const p = op.requestPut;
            responses.push({ put: this.put(latin1(p.key), hex(p.value), p) });
          } else if ('requestDeleteRange' in op) {
            const r = op.requestDeleteRange;
            responses.push({ del: this.deleteRange(latin1(r.key), r.rangeEnd === undefined ? undefined : latin1(r.rangeEnd), r) });
          } else {
            responses.push({ txn: run(op.requestTxn) });
          }
        }
        return { succeeded: d.ok, responses, rev: 0 };
      };
      const out = run(req);
      const rev = this.viewRev();
      const events = ci === undefined ? [] : this.end(ci);
      if (ci === undefined) this.rollback();
      return { response: { ...out, rev }, events };
    } catch (e) {
      this.rollback();
      if (ci !== undefined) this.end(ci);
      if (e instanceof EtcdError) throw new ModelError(e.code);
      throw e;
    }
  }

  compact(r: number, ci: number | undefined): void {
    if (ci !== undefined) this.consistentIndex = ci;
    if (r <= this.compactRev) fail('Compacted');
    if (r > this.rev) fail('FutureRev');
    this.compactRev = r;
  }
}
