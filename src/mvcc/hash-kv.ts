/**
 * hashKV: a CRC32C over the revision records up to a revision, for members to compare (etcd's
 * HashByRev, used by the corruption check). Records are hashed in revision order, each as its
 * LevelDB key then its value. Records at or below the compaction revision are included only if
 * compaction keeps them (compactor.ts), so the hash does not depend on how far a member's
 * physical compaction has got: members with the same history and compaction revision agree.
 *
 * It reads every record up to rev, in batches (an iterator reads one snapshot of the database).
 * If a compaction is recorded meanwhile, the kept set changes under it, so it starts over.
 */
import { crc32c } from '@node-rs/crc32';
import { EtcdError } from '../errors.js';
import { keptByCompaction } from './compactor.js';
import { decodeRecordKey, recordMain, REVISIONS_START, revisionBound } from './keyspace.js';
import { BUFFERS, BULK_READ, type StoreCore } from './store-core.js';
import type { KeyValueHash } from './types.js';

const HASH_BATCH = 1000;

/** rev <= 0: the current revision. */
export async function hashKV(core: StoreCore, rev: number): Promise<KeyValueHash> {
  for (;;) {
    // Every revision up to the one hashed must be in the database (see StoreCore.settled).
    await core.settled();
    core.checkOpen();
    const compactRev = core.compactRev;
    if (rev > 0 && rev < compactRev) throw new EtcdError('Compacted');
    if (rev > core.currentRev) throw new EtcdError('FutureRev');
    const atRev = rev <= 0 ? core.currentRev : rev;
    let hash = 0;
    const it = core.db.iterator<Buffer, Buffer>({ gte: REVISIONS_START, lt: revisionBound(atRev + 1), ...BUFFERS, ...BULK_READ });
    try {
      for (;;) {
        const batch = await it.nextv(HASH_BATCH);
        if (batch.length === 0) break;
        for (const [key, value] of batch) {
          if (recordMain(key) <= compactRev && !keptByCompaction(core, decodeRecordKey(key), compactRev)) continue;
          hash = crc32c(value, crc32c(key, hash));
        }
      }
    } finally {
      await it.close();
    }
    if (core.compactRev === compactRev) return { hash, compactRevision: compactRev, revision: atRev };
  }
}
