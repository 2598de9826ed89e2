/**
 * Reading history by revision: the events of a span of revisions, as watchers replaying from a
 * start revision need them (etcd's watchableStore reads the same with a range over its revision
 * bucket). Revision records are keyed by (main, sub) revision, so one iterator walks them in
 * event order; the iterator reads one snapshot of the database, so a compaction running
 * meanwhile cannot tear a batch.
 */
import { EtcdError } from '../errors.js';
import { assert } from '../util/index.js';
import { keyBytes } from './bytes.js';
import { decodePutValue, decodeRecordKey, recordMain, revisionBound } from './keyspace.js';
import { BUFFERS, BULK_READ, type StoreCore } from './store-core.js';
import { EventType, type Event } from './types.js';

/** A slice of history: the events of every revision in [fromRev, nextRev). */
export interface HistoryBatch {
  readonly events: Event[];
  readonly nextRev: number;
}

const READ_BATCH = 256;

/**
 * The events of revisions in [fromRev, toRev], in revision then sub-revision order, stopping
 * after the revision at which `limit` events are reached (a revision is never split, so one
 * txn's events may exceed the limit). Fails with Compacted when fromRev is below the compaction
 * revision, and FutureRev when toRev is after the current revision.
 *
 * Example: revisions 5 (put a), 6 (txn: put b, delete c), 7 (put a); eventsBetween(5, 7, 2)
 * returns the three events of 5 and 6 with nextRev 7.
 */
export async function eventsBetween(core: StoreCore, fromRev: number, toRev: number, limit: number): Promise<HistoryBatch> {
  core.checkOpen();
  assert(Number.isSafeInteger(fromRev) && Number.isSafeInteger(toRev) && fromRev >= 1 && fromRev <= toRev, 'eventsBetween: bad span');
  assert(Number.isSafeInteger(limit) && limit >= 1, 'eventsBetween: bad limit');
  if (toRev > core.currentRev) throw new EtcdError('FutureRev');
  // The revisions up to toRev must be in the database, not only in a group being written.
  await core.settled();
  core.checkOpen();
  if (fromRev < core.compactRev) throw new EtcdError('Compacted');
  const events: Event[] = [];
  let nextRev = toRev + 1;
  const it = core.db.iterator<Buffer, Buffer>({ gte: revisionBound(fromRev), lt: revisionBound(toRev + 1), ...BUFFERS, ...BULK_READ });
  try {
    outer: for (;;) {
      const batch = await it.nextv(READ_BATCH);
      if (batch.length === 0) break;
      for (const [dbKey, dbValue] of batch) {
        const main = recordMain(dbKey);
        // Stop at the first record of a new revision once the limit is reached.
        if (events.length >= limit && main !== (events[events.length - 1] as Event).kv.modRevision) {
          nextRev = main;
          break outer;
        }
        events.push(toEvent(dbKey, dbValue));
      }
    }
  } finally {
    await it.close();
  }
  // The records were read from one snapshot; a compaction recorded meanwhile only matters if it
  // passed fromRev, because records at or after the compaction revision are never deleted.
  if (fromRev < core.compactRev) throw new EtcdError('Compacted');
  return { events, nextRev };
}

function toEvent(dbKey: Buffer, dbValue: Buffer): Event {
  const rec = decodeRecordKey(dbKey);
  const key = keyBytes(rec.key);
  if (rec.tombstone) {
    // etcd's DELETE event: the key and the tombstone's revision, every other field zero.
    return { type: EventType.DELETE, kv: { key, createRevision: 0, modRevision: rec.main, version: 0, value: Buffer.alloc(0), lease: 0n } };
  }
  const { value, lease } = decodePutValue(dbValue);
  return {
    type: EventType.PUT,
    kv: { key, createRevision: rec.created, modRevision: rec.main, version: rec.version, value: Buffer.from(value), lease },
  };
}
