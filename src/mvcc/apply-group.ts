/**
 * An apply group: many raft entries applied with one database batch instead of one each. While
 * a group is open, every WriteTxn that ends adds its records to the group instead of writing
 * them; the next WriteTxn builds on its revision (its records are read from memory), but reads
 * outside the group still see currentRev, which moves only when commit() has written the batch.
 * So a reader never sees a revision whose records are not in the database, and the consistent
 * index is written in the same batch as the effects of the entries it counts, as before.
 *
 * The caller must not report a grouped entry's result (to a client or a watcher) before
 * commit() resolves: until then the entry is not durable in the store.
 *
 * Example: group; put a (rev 5, ci 10); put b (rev 6, ci 11); commit -> one batch with both
 * records, current revision 6, consistent index 11.
 */
import { assert } from '../util/index.js';
import { encodeMetaU64, META_CONSISTENT_INDEX, META_CURRENT_REV } from './keyspace.js';
import { BUFFERS, type ApplyGroupState, type StoreCore } from './store-core.js';

export class ApplyGroup {
  private readonly state: ApplyGroupState;
  private done = false;

  /** Use MvccStore.beginGroup(). */
  constructor(private readonly core: StoreCore) {
    core.checkOpen();
    assert(core.group === null, 'one apply group at a time');
    assert(core.writer === null, 'an apply group starts between writes');
    this.state = { pending: new Map(), lastRev: core.currentRev, consistentIndex: core.consistentIndex, ops: [] };
    core.group = this.state;
  }

  /** Entries ended in the group so far changed anything (or moved the consistent index). */
  get empty(): boolean {
    return this.state.ops.length === 0 && this.state.consistentIndex === this.core.consistentIndex;
  }

  /**
   * Writes everything the group's txns ended, with the final current revision and consistent
   * index, in one batch; then readers see it. A failed write leaves the store closed: its key
   * index holds revisions the database does not, so the member must restart from disk.
   */
  async commit(): Promise<void> {
    assert(!this.done, 'apply group committed twice');
    assert(this.core.writer === null, 'apply group committed while a WriteTxn is open');
    this.done = true;
    const { ops, lastRev, consistentIndex } = this.state;
    try {
      if (!this.empty) {
        ops.push({ type: 'put', key: META_CONSISTENT_INDEX, value: encodeMetaU64(consistentIndex) });
        if (lastRev !== this.core.currentRev) ops.push({ type: 'put', key: META_CURRENT_REV, value: encodeMetaU64(lastRev) });
        await this.core.db.batch(ops, BUFFERS);
      }
    } catch (e) {
      this.core.closed = true;
      throw e;
    } finally {
      this.core.group = null;
    }
    this.core.currentRev = lastRev;
    this.core.consistentIndex = consistentIndex;
  }
}
