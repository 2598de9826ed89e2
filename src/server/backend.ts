/**
 * The member's database and what lives in it: the MVCC store, the lease records and the member
 * list. A snapshot from the leader replaces the whole database (db-snapshots.ts), so the store
 * and the lease table are reopened from it; the parts always reach them through here.
 */
import { minLeaseTtlSeconds } from '../lease/index.js';
import { MvccStore, type MvccDb } from '../mvcc/index.js';
import type { Logger } from '../util/logger.js';
import { prefixEnd } from './concurrency.js';
import type { Clock, Databases, Timers } from './env.js';
import { LeaseTable } from './leases.js';
import { Membership } from './membership.js';
import type { Member } from './service.js';

/** Written with sync before a snapshot releases WAL segments (outside mvcc's prefixes). */
const DB_SYNC_KEY = Buffer.from('\x00synced-index');

export interface BackendDeps {
  readonly databases: Databases;
  readonly path: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly electionMs: number;
  readonly membership: Membership;
}

export class Backend {
  private current: { db: MvccDb; store: MvccStore; leases: LeaseTable } | undefined;
  private closed = false;

  constructor(private readonly deps: BackendDeps) {}

  get db(): MvccDb {
    return this.opened().db;
  }

  get store(): MvccStore {
    return this.opened().store;
  }

  get leases(): LeaseTable {
    return this.opened().leases;
  }

  /** Opens the database, MVCC on it, and loads the members and leases kept beside it. */
  async open(): Promise<void> {
    const d = this.deps;
    const db = await d.databases.open(d.path);
    const leases = new LeaseTable(d.clock, minLeaseTtlSeconds(10, d.electionMs / 10));
    const store = await MvccStore.open(db, {
      logger: d.logger,
      yieldToEventLoop: () => d.timers.yield(),
      leaseExists: (id) => leases.lessor.lookup(id) !== undefined,
    });
    d.membership.load(await records(db, Membership.PREFIX));
    // Keys name their lease, so reattaching reads every current key: only when leases exist.
    const leaseRecords = await records(db, LeaseTable.PREFIX);
    const kvs = leaseRecords.length === 0 ? [] : (await store.range(Buffer.from([0]), Buffer.from([0]))).kvs;
    leases.load(leaseRecords, kvs);
    this.current = { db, store, leases };
    this.closed = false;
  }

  /**
   * Closes the store and the database. What they held stays reachable until the next open()
   * (a snapshot install closes, replaces and reopens while timers and requests still run):
   * reads of a closed store fail, the lessor answers from memory.
   */
  async close(): Promise<void> {
    const c = this.current;
    if (c === undefined || this.closed) return;
    this.closed = true;
    await c.store.close();
    await c.db.close();
  }

  /** The members of a new or joining member, before anything is applied. */
  async persistMembers(members: readonly Member[]): Promise<void> {
    const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    for (const m of members) {
      const op = this.deps.membership.set(m);
      if (op.type !== 'put') throw new Error('membership.set gave a delete');
      ops.push({ type: 'put', key: Buffer.from(op.key), value: Buffer.from(op.value) });
    }
    await this.db.batch(ops);
  }

  /**
   * Makes everything applied so far durable: LevelDB does not sync its writes, and a synced
   * write syncs every earlier one. Called before the WAL behind a snapshot is released.
   */
  async sync(appliedIndex: number): Promise<void> {
    await this.db.put(DB_SYNC_KEY, Buffer.from(String(appliedIndex)), { sync: true } as object);
  }

  private opened(): { db: MvccDb; store: MvccStore; leases: LeaseTable } {
    const c = this.current;
    if (c === undefined) throw new Error('backend: the database was never opened');
    return c;
  }
}

async function records(db: MvccDb, prefix: Uint8Array): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const [, v] of db.iterator({ gte: Buffer.from(prefix), lt: Buffer.from(prefixEnd(prefix)) })) out.push(v as Buffer);
  return out;
}
