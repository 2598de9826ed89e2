/**
 * One database batch of raw byte keys and values, as mvcc writes them.
 *
 * abstract-level's public batch() copies every operation into a new object and looks its key
 * and value encodings up again before it hands the batch to the database's own implementation:
 * under a put load that JavaScript cost about as much as classic-level's native batch itself (5%
 * of a member's CPU each, `npx tsx bench/profile-put.ts --generator etcd-benchmark`). mvcc's
 * operations need none of it: Buffer keys and values, no hooks, no 'write' listeners. So a
 * database may offer writeRaw(), which takes them as they are (the real environment's LevelDB
 * does, src/server/real-env.ts); any other (memory-level in the simulation) takes the public path.
 */
import { BUFFERS, type MvccDb } from './store-core.js';

export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

/** A database that writes mvcc's operations without abstract-level's per-operation work. */
export interface RawBatchWriter {
  /** Writes ops in one atomic batch; on a database that is not open, rejects as batch() does. */
  writeRaw(ops: readonly BatchOp[]): Promise<void>;
}

export function writeBatch(db: MvccDb, ops: readonly BatchOp[]): Promise<void> {
  const raw = db as MvccDb & Partial<RawBatchWriter>;
  if (raw.writeRaw !== undefined) return raw.writeRaw(ops);
  return db.batch(ops as BatchOp[], BUFFERS);
}
