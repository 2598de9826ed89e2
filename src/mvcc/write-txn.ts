/**
 * A write transaction: every change it makes is one revision (main = the current revision + 1),
 * numbered by sub-revision in the order made, and end() commits them in one database batch
 * together with the raft index of the entry that made them (the consistent index). After a
 * crash, the entries up to the stored consistent index are in the database and the caller skips
 * them when raft replays its log; the rest were never written, so applying them again is safe.
 *
 * Like etcd's storeTxnWrite, changes go into the key index at once and reads inside the txn see
 * them (etcd reads at beginRev + 1 once there are changes). Reads outside the txn read at the
 * current revision, which only moves when end()'s batch is in the database, so they never see
 * a revision whose records are not there yet. A txn that changes nothing does not move the
 * revision (etcd: a delete that deletes nothing, a read-only txn).
 *
 * Applying is serialized: one WriteTxn at a time (asserted), and its operations one at a time
 * (each is awaited before the next; asserted). Every change is made synchronously after the
 * operation's last await, so the index and the pending records never disagree.
 */
import { EtcdError } from '../errors.js';
import { assert } from '../util/index.js';
import { keySpan, keyString } from './bytes.js';
import { writeBatch, type BatchOp } from './db-batch.js';
import {
  encodeMetaU64,
  encodePutValue,
  encodeRecordKey,
  META_CONSISTENT_INDEX,
  META_CURRENT_REV,
  META_PREFIX,
  RECORD_KEY_HEADER_BYTES,
  REVISION_PREFIX,
  TOMBSTONE_VALUE,
} from './keyspace.js';
import { KeyIndex } from './key-index.js';
import { range } from './range.js';
import { checkDeleteRangeRequest, checkPutRequest, checkRangeRequest } from './request-checks.js';
import type { PendingRevision, ReadView, StoreCore } from './store-core.js';
import {
  EventType,
  type DeleteRangeOptions,
  type DeleteRangeResponse,
  type Event,
  type KeyValue,
  type PutOptions,
  type PutResponse,
  type RangeOptions,
  type RangeResponse,
} from './types.js';

/**
 * A write of another module (leases, auth, members) to commit in the same batch. Keys must not
 * use mvcc's prefixes (keyspace.ts).
 */
export type ExtraOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

interface PendingRecord {
  readonly key: string;
  readonly dbKey: Buffer;
  readonly dbValue: Buffer;
  /** The KeyValue of a put; null for a tombstone. */
  readonly kv: KeyValue | null;
}

const NO_BYTES = new Uint8Array(0);

/** A Buffer over the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class WriteTxn implements PendingRevision {
  /** The revision this txn writes. */
  readonly main: number;
  /** The current revision when the txn began. */
  readonly beginRev: number;
  /** Pending records, indexed by sub-revision. */
  private readonly records: PendingRecord[] = [];
  private readonly events: Event[] = [];
  private state: 'open' | 'busy' | 'ending' | 'ended' = 'open';

  /** Use MvccStore.write(). */
  constructor(private readonly core: StoreCore) {
    core.acquireWriter(this);
    this.beginRev = core.writeRev();
    this.main = this.beginRev + 1;
  }

  /** Changes made so far (the next sub-revision). */
  get changes(): number {
    return this.records.length;
  }

  /** The revision reads in this txn see: its own once it has changed something. */
  get readRev(): number {
    return this.records.length > 0 ? this.main : this.beginRev;
  }

  /** The revision this txn's responses report: the new one once it has changed something. */
  get rev(): number {
    return this.readRev;
  }

  /** A view of the store with this txn's changes. */
  view(): ReadView {
    return {
      rev: this.readRev,
      index: this.core.index,
      compactRev: () => this.core.compactRev,
      fetch: (entries, atRev) => this.core.fetch(entries, atRev, this),
    };
  }

  pendingKv(sub: number): KeyValue {
    const kv = this.records[sub]?.kv;
    assert(kv !== undefined && kv !== null, `no pending put at sub-revision ${sub}`);
    return kv;
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array, opts: RangeOptions = {}): Promise<RangeResponse> {
    return this.op(() => {
      checkRangeRequest({ ...opts, key });
      return range(this.view(), key, rangeEnd, opts);
    });
  }

  /**
   * Puts key = value (etcd's applier put + storeTxnWrite.put). With ignoreValue/ignoreLease the
   * key must exist (KeyNotFound) and keeps its value/lease. The lease is not checked here: the
   * caller checks it exists first, as etcd's applier does (MvccStore.put and txn do).
   */
  put(key: Uint8Array, value: Uint8Array, opts: PutOptions = {}): Promise<PutResponse> {
    return this.op(async () => {
      checkPutRequest({ ...opts, key, value });
      const k = keyString(key);
      let prev: KeyValue | undefined;
      if (opts.ignoreValue === true || opts.ignoreLease === true || opts.prevKv === true) {
        prev = await this.get(k);
      }
      if ((opts.ignoreValue === true || opts.ignoreLease === true) && prev === undefined) throw new EtcdError('KeyNotFound');
      // No await below this line: the index and the pending records change together.
      const newValue = opts.ignoreValue === true && prev !== undefined ? prev.value : value;
      const lease = opts.ignoreLease === true && prev !== undefined ? prev.lease : (opts.lease ?? 0n);
      const kv = this.putNow(k, newValue, lease);
      if (opts.prevKv === true && prev !== undefined) {
        this.events.push({ type: EventType.PUT, kv, prevKv: prev });
        return { rev: this.main, prevKv: prev };
      }
      this.events.push({ type: EventType.PUT, kv });
      return { rev: this.main };
    });
  }

  /** Deletes the keys in the range that exist now (etcd's storeTxnWrite.deleteRange), in key order. */
  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array, opts: DeleteRangeOptions = {}): Promise<DeleteRangeResponse> {
    return this.op(async () => {
      checkDeleteRangeRequest({ key });
      const atRev = this.readRev;
      const { entries } = this.core.index.revisions(keySpan(key, rangeEnd), atRev, 0);
      const prevKvs = opts.prevKv === true ? await this.core.fetch(entries, atRev, this) : [];
      // No await below this line.
      for (const [i, { key: k }] of entries.entries()) {
        const kv = this.deleteNow(k);
        const prevKv = prevKvs[i];
        this.events.push(prevKv !== undefined ? { type: EventType.DELETE, kv, prevKv } : { type: EventType.DELETE, kv });
      }
      return { rev: this.rev, deleted: entries.length, prevKvs };
    });
  }

  /**
   * Drops every change made so far: the index forgets them and end() commits none. For a txn
   * that fails half-way (see txn.ts) and for a batch the database refused.
   */
  rollback(): void {
    assert(this.state === 'open' || this.state === 'ending', `rollback of a ${this.state} WriteTxn`);
    for (let sub = this.records.length - 1; sub >= 0; sub--) {
      this.core.index.undo((this.records[sub] as PendingRecord).key, this.main, sub);
    }
    this.records.length = 0;
    this.events.length = 0;
  }

  /**
   * Commits the changes and the consistent index in one batch (with `extraOps` of other modules),
   * then moves the current revision if anything changed. Returns the revision's events, in
   * sub-revision order, for watchers.
   */
  async end(consistentIndex: number, extraOps: readonly ExtraOp[] = []): Promise<Event[]> {
    assert(this.state === 'open', `end of a ${this.state} WriteTxn`);
    assert(Number.isSafeInteger(consistentIndex) && consistentIndex >= 0, `bad consistent index ${consistentIndex}`);
    assert(consistentIndex >= this.core.writeConsistentIndex(), 'the consistent index went back');
    this.state = 'ending';
    const group = this.core.group;
    const ops: BatchOp[] = group?.ops ?? [];
    for (const r of this.records) ops.push({ type: 'put', key: r.dbKey, value: r.dbValue });
    for (const op of extraOps) {
      assert(op.key.length > 0 && op.key[0] !== REVISION_PREFIX && op.key[0] !== META_PREFIX, 'extra op in the mvcc keyspace');
      ops.push(op.type === 'put' ? { type: 'put', key: asBuffer(op.key), value: asBuffer(op.value) } : { type: 'del', key: asBuffer(op.key) });
    }
    if (group !== null) {
      // In a group: the group writes the records and the meta values once, in one batch.
      if (this.records.length > 0) {
        group.pending.set(this.main, this);
        group.lastRev = this.main;
      }
      group.consistentIndex = consistentIndex;
      this.state = 'ended';
      this.core.releaseWriter(this);
      return this.events;
    }
    ops.push({ type: 'put', key: META_CONSISTENT_INDEX, value: encodeMetaU64(consistentIndex) });
    if (this.records.length > 0) ops.push({ type: 'put', key: META_CURRENT_REV, value: encodeMetaU64(this.main) });
    try {
      await writeBatch(this.core.db, ops);
    } catch (e) {
      // Nothing was written: forget the changes, so the store stays as it was.
      this.rollback();
      this.state = 'ended';
      this.core.releaseWriter(this);
      throw e;
    }
    // The commit point: the batch is in the database, now reads may see the revision.
    if (this.records.length > 0) {
      assert(this.core.currentRev === this.beginRev, 'the current revision moved under a WriteTxn');
      this.core.currentRev = this.main;
    }
    this.core.consistentIndex = consistentIndex;
    this.state = 'ended';
    this.core.releaseWriter(this);
    return this.events;
  }

  /** Reads a single key as this txn sees it. */
  private async get(k: string): Promise<KeyValue | undefined> {
    const atRev = this.readRev;
    const rev = this.core.index.get(k)?.get(atRev);
    if (rev === undefined) return undefined;
    const [kv] = await this.core.fetch([{ key: k, rev }], atRev, this);
    return kv;
  }

  private putNow(k: string, value: Uint8Array, lease: bigint): KeyValue {
    const sub = this.records.length;
    // The key as of this txn, its own changes included (etcd reads the index at beginRev + 1).
    // One tree search: at a million keys each is a couple of microseconds.
    const ki = this.core.index.get(k);
    const cur = ki?.get(this.main);
    const created = cur === undefined ? this.main : cur.created;
    const version = cur === undefined ? 1 : cur.version + 1;
    if (ki === undefined) this.core.index.add(k, KeyIndex.fromPut(this.main, sub));
    else ki.put(this.main, sub);
    const dbKey = encodeRecordKey(this.main, sub, false, created, version, k);
    const dbValue = encodePutValue(value, lease);
    const kv: KeyValue = {
      key: dbKey.subarray(RECORD_KEY_HEADER_BYTES),
      createRevision: created,
      modRevision: this.main,
      version,
      // A view of the encoded value: the caller may reuse its buffer.
      value: dbValue.subarray(dbValue.length - value.length),
      lease,
    };
    this.records.push({ key: k, dbKey, dbValue, kv });
    return kv;
  }

  /** Tombstones a live key; returns the DELETE event's kv (key and mod revision only, as etcd). */
  private deleteNow(k: string): KeyValue {
    const sub = this.records.length;
    const ki = this.core.index.get(k);
    const cur = ki?.get(this.main);
    assert(ki !== undefined && cur !== undefined, 'delete of a key that does not exist');
    ki.tombstone(this.main, sub);
    // The tombstone counts in its generation's version, as etcd's generation.ver does.
    const dbKey = encodeRecordKey(this.main, sub, true, cur.created, cur.version + 1, k);
    this.records.push({ key: k, dbKey, dbValue: TOMBSTONE_VALUE, kv: null });
    return {
      key: dbKey.subarray(RECORD_KEY_HEADER_BYTES),
      createRevision: 0,
      modRevision: this.main,
      version: 0,
      value: NO_BYTES,
      lease: 0n,
    };
  }

  /** Runs one operation; operations of a txn are sequential (each awaited before the next). */
  private async op<T>(fn: () => Promise<T>): Promise<T> {
    assert(this.state === 'open', `operation on a ${this.state} WriteTxn: await each operation, and none after end()`);
    this.core.checkOpen();
    this.state = 'busy';
    try {
      return await fn();
    } finally {
      this.state = 'open';
    }
  }
}
