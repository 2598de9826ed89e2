/**
 * Physical compaction: after MvccStore.compact(rev) has recorded the compaction (reads below rev
 * fail from then on), this trims the key index and deletes the obsolete revision records, in
 * bounded batches with the event loop yielded in between, so requests keep being served.
 *
 * Which records survive is decided by the key index (KeyIndex.keepsAfterCompaction): a record
 * at or below rev survives only if it is the revision of its key visible at rev (so never a
 * tombstone). That answer does not depend on how far the index has been trimmed, or on whether
 * an earlier compaction finished, so trimming and deleting can proceed in any order, be
 * interrupted by a crash or close(), and be resumed from scratch (MvccStore.open does).
 */
import { assert } from '../util/index.js';
import { decodeRecordKey, encodeMetaU64, META_FINISHED_COMPACT, REVISIONS_START, revisionBound, type RecordKey } from './keyspace.js';
import { writeBatch } from './db-batch.js';
import { BUFFERS, BULK_READ, type StoreCore } from './store-core.js';

/** Whether a revision record at or below atRev survives a compaction at atRev. */
export function keptByCompaction(core: StoreCore, rec: RecordKey, atRev: number): boolean {
  if (rec.main > atRev) return true;
  if (rec.tombstone) return false;
  const ki = core.index.get(rec.key);
  return ki !== undefined && ki.keepsAfterCompaction(atRev, rec.main, rec.sub);
}

/**
 * Runs the compaction at atRev to the end and records it finished; returns false if the store
 * was closed first (the compaction stays scheduled and resumes on the next open).
 */
export async function runCompaction(core: StoreCore, atRev: number, yieldToEventLoop: () => Promise<void>): Promise<boolean> {
  assert(atRev <= core.compactRev, 'compaction runs only after it is recorded');
  const batchSize = core.options.compactionBatchSize;
  const end = revisionBound(atRev + 1);
  let indexFrom: string | undefined;
  let indexDone = false;
  let dbFrom: Buffer | undefined;
  let dbDone = false;
  let deleted = 0;
  // Bounded: each round advances the index by batchSize keys or the records by batchSize.
  while (!indexDone || !dbDone) {
    if (core.closed) return false;
    if (!indexDone) {
      indexFrom = core.index.compactChunk(atRev, indexFrom, batchSize);
      indexDone = indexFrom === undefined;
    }
    if (!dbDone) {
      const range = dbFrom === undefined ? { gte: REVISIONS_START } : { gt: dbFrom };
      const keys = await core.db.keys<Buffer>({ ...range, lt: end, limit: batchSize, keyEncoding: 'buffer', ...BULK_READ }).all();
      if (core.closed) return false;
      const dels: { type: 'del'; key: Buffer }[] = [];
      for (const key of keys) {
        if (!keptByCompaction(core, decodeRecordKey(key), atRev)) dels.push({ type: 'del', key });
      }
      if (dels.length > 0) await writeBatch(core.db, dels);
      deleted += dels.length;
      dbDone = keys.length < batchSize;
      dbFrom = keys[keys.length - 1];
    }
    await yieldToEventLoop();
  }
  if (core.closed) return false;
  await core.db.put(META_FINISHED_COMPACT, encodeMetaU64(atRev), BUFFERS);
  core.options.logger.info('mvcc: finished compaction', { revision: atRev, deletedRecords: deleted });
  return true;
}
