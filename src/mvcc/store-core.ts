/**
 * The state every part of the store shares: the database handle, the key index, the current and
 * compacted revisions, the consistent index, and who is writing. MvccStore (store.ts) is the
 * public face; WriteTxn, the compactor and hashKV work on this.
 */
import type { AbstractLevel } from 'abstract-level';
import { EtcdError } from '../errors.js';
import { assert, type Logger } from '../util/index.js';
import { decodePutValue, encodeRecordKey, RECORD_KEY_HEADER_BYTES } from './keyspace.js';
import type { BatchOp } from './db-batch.js';
import type { IndexEntry } from './tree-index.js';
import { TreeIndex } from './tree-index.js';
import type { KeyValue } from './types.js';

/**
 * The database mvcc is handed: any abstract-level database (classic-level through `level` in
 * the product, memory-level in tests). mvcc passes its encodings on every call, so the
 * database's default key and value types do not matter, hence `any`: with
 * exactOptionalPropertyTypes, `unknown` would make `Level<string, string>` unassignable.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MvccDb = AbstractLevel<string | Buffer | Uint8Array, any, any>;

/** Every mvcc database call reads and writes raw bytes. */
export const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/**
 * Options for iterators that read many entries per nextv(). classic-level (under `level`) stops
 * a nextv() once it holds highWaterMarkBytes, 16 KiB by default: about 240 record keys, so a
 * million keys took 4,200 round trips to its thread (1.8 s); at 1 MiB a nextv(1000) is never cut
 * short (1.3 s). Other backends ignore the option.
 */
export const BULK_READ = { highWaterMarkBytes: 1 << 20 } as const;

/**
 * Reads of at most this many records use getSync: LevelDB answers from its memtable or caches
 * in microseconds on the event loop, where a trip to its thread and back costs about 0.1 ms
 * (etcd reads bbolt's mmap on the request's goroutine the same way). Larger reads go to the
 * thread with one getMany, so a big range never holds the event loop for long.
 */
const SYNC_READ_KEYS = 8;

/** The revision a WriteTxn is building: reads inside it see its records before they are in the db. */
export interface PendingRevision {
  readonly main: number;
  /** The KeyValue a put at this sub-revision wrote. */
  pendingKv(sub: number): KeyValue;
}

/** How a read sees the store: at which revision, and where records come from. */
export interface ReadView {
  /** The revision the view reads by default, and what responses report (etcd's curRev). */
  readonly rev: number;
  readonly index: TreeIndex;
  /** The compaction revision now: it can move while a read awaits the database. */
  compactRev(): number;
  /** The KeyValues of index entries visible at atRev, in order. */
  fetch(entries: readonly IndexEntry[], atRev: number): Promise<KeyValue[]>;
}

export interface StoreCoreOptions {
  readonly logger: Logger;
  readonly leaseExists: (id: bigint) => boolean;
  readonly compactionBatchSize: number;
}

/** What StoreCore knows of an open apply group. */
export interface ApplyGroupState {
  /** Revisions ended in the group, by main revision. */
  readonly pending: Map<number, PendingRevision>;
  /** The last revision ended in the group (currentRev when none changed anything). */
  lastRev: number;
  /** The last consistent index ended in the group. */
  consistentIndex: number;
  readonly ops: BatchOp[];
}

export class StoreCore {
  index: TreeIndex = TreeIndex.empty();
  /** The last committed revision; 1 in an empty store, as in etcd (the first write is 2). */
  currentRev = 1;
  /** Reads below this revision fail with Compacted; -1 before the first compaction, as in etcd. */
  compactRev = -1;
  /** Raft index of the last entry whose effects are in the database (written in the same batch). */
  consistentIndex = 0;
  /** Who holds the apply slot (a WriteTxn, or a compaction being scheduled); null when free. */
  writer: object | null = null;
  closed = false;
  /** Physical compactions run one after another on this chain. */
  compaction: Promise<void> = Promise.resolve();
  /**
   * An open apply group (apply-group.ts): WriteTxns ending meanwhile leave their records here,
   * and the group writes them in one batch. Their revisions are in the key index but not yet in
   * the database: the group's own txns read them here (see fetch), and so does every read once
   * the group is committed (currentRev moved) until its batch is written.
   */
  group: ApplyGroupState | null = null;
  /** The batch of a committed apply group on its way to the database (its group is still set). */
  writing: Promise<void> | null = null;

  constructor(
    readonly db: MvccDb,
    readonly options: StoreCoreOptions,
  ) {}

  /** The revision the next WriteTxn builds on: the last one ended, in the database or not. */
  writeRev(): number {
    return this.group?.lastRev ?? this.currentRev;
  }

  /** The consistent index of the last entry ended, in the database or not. */
  writeConsistentIndex(): number {
    return this.group?.consistentIndex ?? this.consistentIndex;
  }

  /**
   * Resolves once every revision up to currentRev is in the database: for reads that walk the
   * database itself rather than the key index (history, hashKV). A failed write rejects.
   */
  async settled(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  checkOpen(): void {
    assert(!this.closed, 'mvcc store is closed');
  }

  /** Takes the apply slot: applying is serialized, so a second writer is a programmer error. */
  acquireWriter(who: object): void {
    this.checkOpen();
    assert(this.writer === null, 'one WriteTxn at a time: applying must be serialized');
    this.writer = who;
  }

  releaseWriter(who: object): void {
    assert(this.writer === who, 'released the apply slot it did not hold');
    this.writer = null;
  }

  /** A read view at the current revision, reading records from the database. */
  view(): ReadView {
    return {
      rev: this.currentRev,
      index: this.index,
      compactRev: () => this.compactRev,
      fetch: (entries, atRev) => this.fetch(entries, atRev),
    };
  }

  /**
   * Reads the records of index entries with one getMany. A record can be missing only if a
   * compaction deleted it while this read was waiting, which means atRev is now compacted
   * (reads at or above the compaction revision only use records compaction keeps); otherwise
   * the index and the database disagree, and serving anything would be wrong.
   */
  async fetch(entries: readonly IndexEntry[], atRev: number, pending?: PendingRevision): Promise<KeyValue[]> {
    const kvs: KeyValue[] = new Array<KeyValue>(entries.length);
    const keys: Buffer[] = [];
    const slots: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const { key, rev } = entries[i] as IndexEntry;
      const grouped = this.group?.pending.get(rev.main);
      if (pending !== undefined && rev.main === pending.main) {
        kvs[i] = pending.pendingKv(rev.sub);
      } else if (grouped !== undefined) {
        kvs[i] = grouped.pendingKv(rev.sub);
      } else {
        keys.push(encodeRecordKey(rev.main, rev.sub, false, rev.created, rev.version, key));
        slots.push(i);
      }
    }
    if (keys.length === 0) return kvs;
    const sync = keys.length <= SYNC_READ_KEYS && (this.db.supports as { getSync?: boolean }).getSync === true;
    const values = sync ? keys.map((k) => this.db.getSync<Buffer, Buffer>(k, BUFFERS)) : await this.db.getMany<Buffer, Buffer>(keys, BUFFERS);
    assert(values.length === keys.length, 'getMany returned the wrong number of values');
    for (let j = 0; j < keys.length; j++) {
      const raw = values[j];
      const slot = slots[j] as number;
      const { rev } = entries[slot] as IndexEntry;
      if (raw === undefined) {
        if (atRev < this.compactRev) throw new EtcdError('Compacted');
        assert(false, `revision record ${rev.main}.${rev.sub} is in the key index but not in the database`);
      }
      const { value, lease } = decodePutValue(raw);
      kvs[slot] = {
        key: (keys[j] as Buffer).subarray(RECORD_KEY_HEADER_BYTES),
        createRevision: rev.created,
        modRevision: rev.main,
        version: rev.version,
        value,
        lease,
      };
    }
    return kvs;
  }
}
