/**
 * MvccStore: etcd's multi-version KV store (server/storage/mvcc) over an abstract-level
 * database it is handed. Every change is a revision; the key index (tree-index.ts) knows which
 * revision of which key is visible at any revision, and the records (keyspace.ts) hold the
 * values. The store applies what raft committed, in order: put, deleteRange, txn and compact
 * take the entry's raft index (the consistent index) and persist it in the same batch.
 *
 * Reads (range, hashKV) may run at any time, concurrently with each other and with one writer.
 * Writes are serialized by the caller (asserted): one WriteTxn or compaction at a time.
 */
import { EtcdError } from '../errors.js';
import { AssertionError, assert, nopLogger, type Logger } from '../util/index.js';
import { runCompaction } from './compactor.js';
import { hashKV } from './hash-kv.js';
import { ApplyGroup } from './apply-group.js';
import { eventsBetween, type HistoryBatch } from './history.js';
import {
  decodeMetaU64,
  encodeMetaU64,
  META_CONSISTENT_INDEX,
  META_CURRENT_REV,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
} from './keyspace.js';
import { range } from './range.js';
import { rebuildIndex } from './rebuild.js';
import { checkDeleteRangeRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from './request-checks.js';
import { writeBatch } from './db-batch.js';
import { BUFFERS, StoreCore, type MvccDb } from './store-core.js';
import { checkTxnPath, decidePath, executeTxn, isTxnReadOnly, type TxnExecutor } from './txn.js';
import type {
  Applied,
  DeleteRangeRequest,
  DeleteRangeResult,
  KeyValueHash,
  PutRequest,
  PutResult,
  RangeOptions,
  RangeResponse,
  TxnRequest,
  TxnResult,
} from './types.js';
import { WriteTxn } from './write-txn.js';

export interface MvccStoreOptions {
  readonly logger?: Logger;
  /**
   * Whether a lease exists (the lessor's lookup): a put naming a lease that does not fails with
   * LeaseNotFound, as in etcd. Default: every lease exists.
   */
  readonly leaseExists?: (id: bigint) => boolean;
  /** Records deleted per batch, and keys trimmed per chunk of the index, by compaction. Default 1,000. */
  readonly compactionBatchSize?: number;
  /**
   * Awaited between compaction batches so requests are served in between. mvcc has no timers of
   * its own: the server passes `() => new Promise((r) => setImmediate(r))`. Default: a resolved
   * promise (the database calls still yield).
   */
  readonly yieldToEventLoop?: () => Promise<void>;
}

/** What compact() returns once the compaction is recorded. */
export interface CompactionHandle {
  /** Resolves when the obsolete records are deleted (etcd's `physical` compaction). */
  readonly done: Promise<void>;
}

const NO_BYTES = new Uint8Array(0);

export class MvccStore {
  private readonly yieldToEventLoop: () => Promise<void>;

  private constructor(
    private readonly core: StoreCore,
    options: MvccStoreOptions,
  ) {
    this.yieldToEventLoop = options.yieldToEventLoop ?? (() => Promise.resolve());
  }

  /**
   * Opens the store on a database (empty or written by an earlier MvccStore): reads the meta
   * records, rebuilds the key index with one keys-only pass over the revision records
   * (rebuild.ts), and resumes a compaction that was recorded but not finished.
   */
  static async open(db: MvccDb, options: MvccStoreOptions = {}): Promise<MvccStore> {
    const logger = options.logger ?? nopLogger;
    const core = new StoreCore(db, {
      logger,
      leaseExists: options.leaseExists ?? (() => true),
      compactionBatchSize: options.compactionBatchSize ?? 1000,
    });
    assert(core.options.compactionBatchSize >= 1, 'compactionBatchSize must be positive');
    const [ci, cur, scheduled, finished] = (
      await db.getMany<Buffer, Buffer>([META_CONSISTENT_INDEX, META_CURRENT_REV, META_SCHEDULED_COMPACT, META_FINISHED_COMPACT], BUFFERS)
    ).map((v) => (v === undefined ? undefined : decodeMetaU64(v)));
    const scheduledRev = scheduled ?? -1;
    const finishedRev = finished ?? -1;
    assert(finishedRev <= scheduledRev, 'a compaction finished that was never scheduled');
    core.compactRev = scheduledRev;
    core.consistentIndex = ci ?? 0;
    core.currentRev = cur ?? 1;

    const { index, records, lastMain } = await rebuildIndex(db, scheduledRev, scheduledRev > finishedRev);
    core.index = index;
    // The current revision is written in the same batch as its records.
    assert(lastMain <= core.currentRev, `revision records up to ${lastMain} but the current revision is ${core.currentRev}`);
    assert(core.compactRev <= core.currentRev, 'compaction revision is after the current revision');

    const store = new MvccStore(core, options);
    logger.info('mvcc: opened', {
      currentRevision: core.currentRev,
      compactRevision: core.compactRev,
      consistentIndex: core.consistentIndex,
      keys: core.index.size,
      records,
    });
    if (scheduledRev > finishedRev) {
      logger.info('mvcc: resuming compaction', { revision: scheduledRev, finished: finishedRev });
      void store.schedulePhysical(scheduledRev).catch(() => {});
    }
    return store;
  }

  /** The last committed revision (1 in an empty store). */
  get currentRev(): number {
    return this.core.currentRev;
  }

  /** Reads below this revision fail with Compacted; -1 before the first compaction. */
  get compactRev(): number {
    return this.core.compactRev;
  }

  /** Raft index of the last applied entry whose effects are in the database. */
  consistentIndex(): number {
    return this.core.consistentIndex;
  }

  /** Whether a raft entry is already applied, so replaying it after a restart must skip it. */
  isApplied(index: number): boolean {
    return index <= this.core.consistentIndex;
  }

  /** A RangeRequest against the current state (see range.ts for etcd's rules). */
  async range(key: Uint8Array, rangeEnd?: Uint8Array, opts: RangeOptions = {}): Promise<RangeResponse> {
    this.core.checkOpen();
    checkRangeRequest({ ...opts, key });
    return range(this.core.view(), key, rangeEnd, opts);
  }

  /**
   * Opens an apply group (apply-group.ts): the writes that end until its commit() go to the
   * database in one batch. Compaction waits for no group; do not compact while one is open.
   */
  beginGroup(): ApplyGroup {
    return new ApplyGroup(this.core, this.yieldToEventLoop);
  }

  /** Whether an apply group is open. */
  get inGroup(): boolean {
    return this.core.group !== null;
  }

  /** Starts the one write transaction (applying is serialized: asserted). */
  write(): WriteTxn {
    return new WriteTxn(this.core);
  }

  /** Applies a PutRequest (etcd's applier Put): one revision, committed with the consistent index. */
  put(req: PutRequest, consistentIndex: number): Promise<PutResult> {
    return this.apply(consistentIndex, async (w) => {
      checkPutRequest(req);
      const lease = req.lease ?? 0n;
      if (lease !== 0n && !this.core.options.leaseExists(lease)) throw new EtcdError('LeaseNotFound');
      return w.put(req.key, req.value ?? NO_BYTES, req);
    });
  }

  /** Applies a DeleteRangeRequest; deleting nothing makes no revision. */
  deleteRange(req: DeleteRangeRequest, consistentIndex: number): Promise<DeleteRangeResult> {
    return this.apply(consistentIndex, (w) => {
      checkDeleteRangeRequest(req);
      return w.deleteRange(req.key, req.rangeEnd, req);
    });
  }

  /**
   * Applies a TxnRequest (txn.ts). Without a consistent index it must be read-only and is
   * served from the current state (a serializable txn); with one, it runs in a WriteTxn and the
   * consistent index is committed even when the txn fails or changes nothing.
   */
  async txn(req: TxnRequest, consistentIndex?: number): Promise<TxnResult> {
    this.core.checkOpen();
    if (consistentIndex === undefined) {
      assert(isTxnReadOnly(req), 'a txn that writes is applied with its consistent index');
      checkTxnRequest(req, Number.POSITIVE_INFINITY);
      const view = this.core.view();
      const path = await decidePath(view, req);
      checkTxnPath(view, req, path, this.core.options.leaseExists);
      const exec: TxnExecutor = {
        range: (r) => range(view, r.key, r.rangeEnd, r),
        put: () => Promise.reject(new AssertionError('put in a read-only txn')),
        deleteRange: () => Promise.reject(new AssertionError('delete in a read-only txn')),
      };
      const response = await executeTxn(exec, req, path);
      return { ...response, rev: view.rev, events: [] };
    }
    return this.apply(consistentIndex, async (w) => {
      checkTxnRequest(req, Number.POSITIVE_INFINITY);
      const before = w.view();
      const path = await decidePath(before, req);
      checkTxnPath(before, req, path, this.core.options.leaseExists);
      const exec: TxnExecutor = {
        range: (r) => w.range(r.key, r.rangeEnd, r),
        put: (r) => w.put(r.key, r.value ?? NO_BYTES, r),
        deleteRange: (r) => w.deleteRange(r.key, r.rangeEnd, r),
      };
      const response = await executeTxn(exec, req, path);
      return { ...response, rev: w.rev };
    });
  }

  /**
   * Compacts at rev (etcd's Compact): rev must be after the last compaction (else Compacted)
   * and not after the current revision (else FutureRev). The compaction is recorded, with the
   * consistent index, before this resolves, and from then on reads below rev fail; the key
   * index is trimmed and the obsolete records deleted in the background (`done`).
   */
  async compact(rev: number, consistentIndex?: number): Promise<CompactionHandle> {
    this.core.checkOpen();
    assert(this.core.group === null, 'compaction while an apply group is open');
    const slot = {};
    this.core.acquireWriter(slot);
    const batch: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    if (consistentIndex !== undefined) {
      assert(Number.isSafeInteger(consistentIndex) && consistentIndex >= this.core.consistentIndex, 'the consistent index went back');
      batch.push({ type: 'put', key: META_CONSISTENT_INDEX, value: encodeMetaU64(consistentIndex) });
    }
    let error: EtcdError | undefined;
    if (rev <= this.core.compactRev) error = new EtcdError('Compacted');
    else if (rev > this.core.currentRev) error = new EtcdError('FutureRev');
    else batch.push({ type: 'put', key: META_SCHEDULED_COMPACT, value: encodeMetaU64(rev) });
    try {
      if (batch.length > 0) await writeBatch(this.core.db, batch);
    } finally {
      this.core.releaseWriter(slot);
    }
    if (consistentIndex !== undefined) this.core.consistentIndex = consistentIndex;
    if (error !== undefined) throw error;
    this.core.compactRev = rev;
    this.core.options.logger.info('mvcc: scheduled compaction', { revision: rev });
    return { done: this.schedulePhysical(rev) };
  }

  /** Resolves when every compaction scheduled so far has finished (or stopped at close()). */
  async compactionIdle(): Promise<void> {
    await this.core.compaction;
  }

  /** CRC32C of the records up to rev (0: the current revision); see hash-kv.ts. */
  hashKV(rev = 0): Promise<KeyValueHash> {
    return hashKV(this.core, rev);
  }

  /** The events of revisions [fromRev, toRev], at most about `limit` (history.ts), for watchers. */
  eventsBetween(fromRev: number, toRev: number, limit: number): Promise<HistoryBatch> {
    return eventsBetween(this.core, fromRev, toRev, limit);
  }

  /** Counts for tests, benchmarks and metrics. `revisions` walks the whole index. */
  stats(): { keys: number; revisions: number } {
    return { keys: this.core.index.size, revisions: this.core.index.revisionCount() };
  }

  /**
   * Stops: a running compaction stops at its next batch (it resumes on the next open). The
   * database stays open; it belongs to the caller.
   */
  async close(): Promise<void> {
    if (this.core.closed) return;
    assert(this.core.writer === null, 'close() while a write is in progress');
    this.core.closed = true;
    // An apply group's batch may still be on its way: the database must not close under it.
    await this.core.writing?.catch(() => undefined);
    await this.core.compaction;
  }

  /**
   * Runs `fn` in a WriteTxn and commits it with the consistent index. When `fn` fails with an
   * etcd error, its changes are rolled back and only the consistent index is committed, so the
   * entry counts as applied (it failed the same way on every member).
   */
  private async apply<T extends object>(consistentIndex: number, fn: (w: WriteTxn) => Promise<T>): Promise<T & Applied> {
    const w = this.write();
    let result: T;
    try {
      result = await fn(w);
    } catch (e) {
      w.rollback();
      await w.end(consistentIndex);
      throw e;
    }
    const events = await w.end(consistentIndex);
    return { ...result, events };
  }

  private schedulePhysical(rev: number): Promise<void> {
    const run = this.core.compaction.then(async () => {
      await runCompaction(this.core, rev, this.yieldToEventLoop);
    });
    // The chain never rejects, so one failure does not stop later compactions from running
    // (each retries from scratch); the caller sees the failure through `done`.
    this.core.compaction = run.catch((e: unknown) => {
      this.core.options.logger.error('mvcc: compaction failed', { revision: rev, error: String(e) });
    });
    return run;
  }
}
