/**
 * An apply group: many raft entries applied with one database batch instead of one each. While
 * a group is open, every WriteTxn that ends adds its records to the group instead of writing
 * them; the next WriteTxn builds on its revision (its records are read from memory).
 *
 * commit() makes the group's revisions current at once and writes the batch behind them (etcd's
 * backend keeps its writes in a read buffer the same way): until the batch is in the database,
 * reads take the group's records from memory (StoreCore.fetch), and the readers that walk the
 * database itself (history, hashKV) wait for it (StoreCore.settled). The consistent index moves
 * when the batch is written, in the same batch as the effects of the entries it counts.
 *
 * The caller may answer a grouped entry's client once commit() was called (its effects are
 * readable, and the entry is in the WAL: a failed batch stops the member, and the entry is
 * applied again at restart), but must not tell watchers or mark it applied before commit()
 * resolves: catching up reads the database.
 *
 * Example: group; put a (rev 5, ci 10); put b (rev 6, ci 11); commit -> current revision 6 at
 * once; on the next turn one batch with both records, then consistent index 11.
 */
import { assert } from '../util/index.js';
import { encodeMetaU64, META_CONSISTENT_INDEX, META_CURRENT_REV } from './keyspace.js';
import { writeBatch } from './db-batch.js';
import type { ApplyGroupState, StoreCore } from './store-core.js';

export class ApplyGroup {
  private readonly state: ApplyGroupState;
  private done = false;

  /**
   * Use MvccStore.beginGroup(). `writeAfter` is what the batch waits for before it goes to the
   * database (the store's yieldToEventLoop): the callers settled at commit() answer their
   * clients first, since handing a batch to LevelDB takes the event loop tens of microseconds.
   */
  constructor(
    private readonly core: StoreCore,
    private readonly writeAfter: () => Promise<void> = () => Promise.resolve(),
  ) {
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
   * Makes the group's revisions current and writes everything its txns ended, with the final
   * current revision and consistent index, in one batch (once writeAfter resolves). A failed write leaves the store closed:
   * its key index holds revisions the database does not, so the member must restart from disk.
   */
  commit(): Promise<void> {
    assert(!this.done, 'apply group committed twice');
    assert(this.core.writer === null, 'apply group committed while a WriteTxn is open');
    this.done = true;
    const core = this.core;
    const { ops, lastRev, consistentIndex } = this.state;
    if (this.empty) {
      core.group = null;
      return Promise.resolve();
    }
    ops.push({ type: 'put', key: META_CONSISTENT_INDEX, value: encodeMetaU64(consistentIndex) });
    if (lastRev !== core.currentRev) ops.push({ type: 'put', key: META_CURRENT_REV, value: encodeMetaU64(lastRev) });
    // Readable from now on: core.group stays set, so fetch finds the records, until written.
    core.currentRev = lastRev;
    const written = this.writeAfter()
      .then(() => writeBatch(core.db, ops))
      .then(
        () => {
          core.consistentIndex = consistentIndex;
        },
        (e: unknown) => {
          core.closed = true;
          throw e;
        },
      );
    core.writing = written.finally(() => {
      core.group = null;
      core.writing = null;
    });
    return core.writing;
  }
}
