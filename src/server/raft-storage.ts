import path from 'node:path';
import { MemoryStorage, type ConfState, type Entry, type HardState, type Snapshot, type Storage } from '../raft/index.js';
import { assert } from '../util/assert.js';
import { nopLogger, type Logger } from '../util/logger.js';
import { Snapshotter, Wal, WalError, nodeFs, type Fs, type SnapshotFile } from '../wal/index.js';

export interface DiskStorageOptions {
  readonly fs?: Fs;
  readonly logger?: Logger;
  /** WAL segment size (tests use small ones). */
  readonly segmentBytes?: number;
  /** Snapshot files to keep besides the newest. */
  readonly keepSnapshots?: number;
  /**
   * Where a hard state whose only change is the commit index goes: 'wal' (production, as etcd:
   * written with the next WAL record and at close, without an fsync of its own) or 'memory'
   * (the `stale-commit-restart` control: never written, so a restart finds an old commit index).
   */
  readonly commitOnly?: 'wal' | 'memory';
}

export interface OpenedStorage {
  readonly storage: DiskRaftStorage;
  /** The metadata written when the WAL was created (member and cluster identity). */
  readonly metadata: Uint8Array;
  /** True when the data directory was empty: the member must bootstrap or join. */
  readonly fresh: boolean;
  /** What WAL recovery cut off from a torn tail, for the log. */
  readonly repaired: boolean;
}

/**
 * Raft's durable storage: the WAL and snapshot files on disk, with the log since the last
 * snapshot cached in memory (raft reads only from the cache, which never holds anything that is
 * not durable yet).
 *
 * Layout under `dir`: `wal/` (segments), `snap/` (raft snapshot files).
 *
 * Order of writes, so that any crash leaves a state recovery accepts:
 *  - a snapshot file is written (temp + fsync + rename) before its marker enters the WAL, and on
 *    open a snapshot is used only if the WAL knows its marker;
 *  - entries and hard state become visible to raft only after the WAL's fsync;
 *  - WAL segments are released only once a snapshot file and marker cover them.
 */
export class DiskRaftStorage implements Storage {
  private readonly mem = new MemoryStorage();
  private readonly keepSnapshots: number;
  private readonly commitOnly: 'wal' | 'memory';
  /** A commit-only hard state not written yet: it goes with the next WAL write, or at close. */
  private unwritten: HardState | undefined;
  /** The commit index of the newest hard state written to the WAL: no snapshot goes beyond it. */
  private writtenCommit = 0;

  private constructor(
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly logger: Logger,
    opts: DiskStorageOptions,
  ) {
    this.keepSnapshots = opts.keepSnapshots ?? 5;
    this.commitOnly = opts.commitOnly ?? 'wal';
  }

  /** Open (or create, with `metadata`) the storage in dir. */
  static async open(dir: string, metadata: Uint8Array, opts: DiskStorageOptions = {}): Promise<OpenedStorage> {
    const logger = opts.logger ?? nopLogger;
    const walDir = path.join(dir, 'wal');
    const snapshotter = new Snapshotter(path.join(dir, 'snap'), { ...(opts.fs ? { fs: opts.fs } : {}), logger });
    const walOpts = {
      ...(opts.fs ? { fs: opts.fs } : {}),
      ...(opts.segmentBytes ? { segmentBytes: opts.segmentBytes } : {}),
      preallocate: (opts.fs ?? nodeFs).sparseFiles === true,
      logger,
    };

    let existing: Awaited<ReturnType<typeof Wal.open>> | undefined;
    let snapFile: SnapshotFile | undefined;
    try {
      // Newest snapshot file first; a file whose marker never reached the WAL (a crash between
      // the two writes) is skipped in favour of an older one.
      for (const marker of await snapshotter.list()) {
        try {
          existing = await Wal.open(walDir, { ...walOpts, from: marker });
        } catch (e) {
          if (e instanceof WalError && e.code === 'WAL_SNAPSHOT_NOT_FOUND') continue;
          throw e;
        }
        snapFile = await snapshotter.loadNewest((m) => m.index === marker.index && m.term === marker.term);
        if (snapFile) break;
        await existing.wal.close();
        existing = undefined;
      }
      existing ??= await Wal.open(walDir, walOpts);
    } catch (e) {
      if (!(e instanceof WalError && e.code === 'WAL_NOT_FOUND')) throw e;
      existing = undefined;
    }

    if (existing === undefined) {
      const wal = await Wal.create(walDir, metadata, walOpts);
      const storage = new DiskRaftStorage(wal, snapshotter, logger, opts);
      return { storage, metadata, fresh: true, repaired: false };
    }

    const storage = new DiskRaftStorage(existing.wal, snapshotter, logger, opts);
    if (snapFile) storage.mem.applySnapshot(fromFile(snapFile));
    storage.mem.append(existing.entries as Entry[]);
    storage.mem.setHardState(existing.hardState as HardState);
    storage.writtenCommit = existing.hardState.commit;
    logger.info('raft storage: opened', {
      dir,
      snapshotIndex: snapFile?.index ?? 0,
      firstIndex: storage.firstIndex(),
      lastIndex: storage.lastIndex(),
      commit: existing.hardState.commit,
      repaired: existing.repair !== undefined,
    });
    return { storage, metadata: existing.metadata, fresh: false, repaired: existing.repair !== undefined };
  }

  // --- raft's read side ---------------------------------------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mem.initialState();
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.mem.entries(lo, hi, maxBytes);
  }
  term(i: number): number {
    return this.mem.term(i);
  }
  firstIndex(): number {
    return this.mem.firstIndex();
  }
  lastIndex(): number {
    return this.mem.lastIndex();
  }
  snapshot(): Snapshot {
    return this.mem.snapshot();
  }

  // --- writes -------------------------------------------------------------------------------

  /**
   * A fresh cluster's first state: every initial member writes the same configuration as a
   * snapshot at index 1, term 1 (see MemoryStorage.bootstrap).
   */
  async bootstrap(confState: ConfState): Promise<void> {
    assert(this.lastIndex() === 0, 'bootstrap: storage is not empty');
    const snap: Snapshot = { metadata: { index: 1, term: 1, confState }, data: new Uint8Array(0) };
    await this.save({ snapshot: snap, hardState: { term: 1, vote: 0n, commit: 1 }, entries: [] });
  }

  /**
   * Make a Ready's snapshot, entries and hard state durable (one WAL fsync for all of them;
   * concurrent callers share fsyncs), then visible to raft.
   */
  async save(rd: { readonly snapshot?: Snapshot; readonly hardState?: HardState; readonly entries: readonly Entry[] }): Promise<void> {
    if (rd.snapshot) {
      const m = rd.snapshot.metadata;
      await this.snapshotter.save({ index: m.index, term: m.term, configuration: m.confState, data: rd.snapshot.data });
      await this.wal.saveSnapshotMarker({ index: m.index, term: m.term });
    }
    // A newer hard state replaces the unwritten one; without one, the unwritten one rides along.
    const hardState = rd.hardState ?? this.unwritten;
    this.unwritten = undefined;
    if (hardState !== undefined || rd.entries.length > 0) await this.wal.save(hardState, rd.entries);
    if (hardState !== undefined) this.writtenCommit = Math.max(this.writtenCommit, hardState.commit);
    if (rd.snapshot) this.mem.applySnapshot(rd.snapshot);
    this.mem.append(rd.entries);
    if (rd.hardState) this.mem.setHardState(rd.hardState);
  }

  /**
   * A hard state whose only change is the commit index: no fsync for it (as etcd's MustSync),
   * but it is written with the next WAL record and at close, so a restart does not find an old
   * commit index (and with it an old configuration: see raiseCommit).
   */
  noteHardState(hs: HardState | undefined): void {
    if (!hs) return;
    this.mem.setHardState(hs);
    if (this.commitOnly === 'wal') this.unwritten = hs;
  }

  /**
   * At a restart, before raft reads the hard state: entries up to `appliedIndex` (the state
   * machine's consistent index) were applied, so they were committed, even when the commit index
   * on disk is older (a crash lost the record that carried it). Raising it makes raft hand those
   * entries out again, configuration changes among them, before this member campaigns: without
   * it, the member would run under the configuration of its last snapshot, which it may have
   * left long ago (and win elections its real quorum never saw).
   */
  raiseCommit(appliedIndex: number): void {
    if (this.commitOnly !== 'wal') return;
    const hs = this.mem.initialState().hardState;
    const commit = Math.min(appliedIndex, this.lastIndex());
    if (commit <= hs.commit) return;
    this.logger.info('raft storage: commit index raised to the applied index', { from: hs.commit, to: commit });
    this.mem.setHardState({ ...hs, commit });
  }

  /**
   * Record that the state machine's state at `index` is `data` (already durable in the state
   * machine's own store), drop the cached log before `index - keepEntries` and release the WAL
   * segments the snapshot covers.
   */
  async createSnapshot(index: number, confState: ConfState, data: Uint8Array, keepEntries = 0): Promise<Snapshot> {
    assert(index <= this.writtenCommit, `snapshot at ${index} beyond the commit index on disk (${this.writtenCommit})`);
    const snap = this.mem.createSnapshot(index, confState, data);
    await this.snapshotter.save({ index, term: snap.metadata.term, configuration: confState, data });
    await this.wal.saveSnapshotMarker({ index, term: snap.metadata.term });
    const compactTo = index - keepEntries;
    if (compactTo > this.mem.firstIndex()) this.mem.compact(compactTo);
    // Segments wholly before the first entry still cached are no longer needed for recovery.
    await this.wal.releaseTo(this.mem.firstIndex());
    await this.snapshotter.purge(this.keepSnapshots);
    this.logger.debug('raft storage: snapshot', { index, term: snap.metadata.term, firstIndex: this.firstIndex() });
    return snap;
  }

  /** Writes the unwritten commit index (a clean stop keeps it), then closes the WAL. */
  async close(): Promise<void> {
    if (this.unwritten !== undefined) await this.save({ entries: [] }).catch((e: unknown) => this.logger.warn('raft storage: writing the commit index at close failed', { error: String(e) }));
    await this.wal.close();
  }

  walStats(): ReturnType<Wal['stats']> {
    return this.wal.stats();
  }
}

function fromFile(f: SnapshotFile): Snapshot {
  const cs = f.configuration as Partial<ConfState> | undefined;
  assert(cs !== undefined && Array.isArray(cs.voters) && Array.isArray(cs.learners), `snapshot ${f.term}-${f.index}: bad configuration`);
  return { metadata: { index: f.index, term: f.term, confState: { voters: cs.voters, learners: cs.learners } }, data: f.data };
}
