/**
 * The write-ahead log: raft's entries, hard state and snapshot markers, made durable before raft
 * may act on them.
 *
 * Group commit. save() only encodes and queues; one flush loop turns the queue into disk I/O,
 * one write() and one fdatasync() at a time (one O_DSYNC write on the real disk: see
 * OpenOptions.dataSync). Everything saved while an fsync is in flight joins
 * the next write, so N concurrent savers share about one fsync per round trip instead of paying
 * one each (stats().fsyncs vs stats().recordsWritten shows it). Every save of a round resolves
 * together once its fdatasync returns.
 *
 * Failure. If a write or fdatasync fails, the WAL is poisoned: the waiting saves and every later
 * one reject with WAL_POISONED. After a failed fsync the kernel may have dropped the dirty pages
 * and cleared the error, so a later fsync "succeeding" would prove nothing (the PostgreSQL
 * fsyncgate lesson); the member must restart and recover from what is really on disk.
 *
 * Segments. The current segment is rolled once it holds segmentBytes: the new one is written as
 * a temp file (crc seed, metadata, hard state, snapshot marker), fsynced, renamed into place and
 * the directory fsynced, so a segment that exists is always a valid start. Because each segment
 * repeats the metadata, hard state and last marker, older segments can be deleted (releaseTo)
 * once a snapshot covers them.
 */
import path from 'node:path';
import { assert } from '../util/assert.js';
import { type Logger, nopLogger } from '../util/logger.js';
import { WalError } from './errors.js';
import { type Fs, type FsFile, join, nodeFs, syncDir, unlinkIfExists, writeFully } from './fs.js';
import {
  checkEntries,
  checkHardState,
  checkMarker,
  encodeCrc,
  encodeEntries,
  encodeHardState,
  encodeMarker,
  encodeMetadata,
} from './payload.js';
import { FrameBuffer, RecordType } from './record.js';
import { type WalRepair, listSegments, recover } from './recover.js';
import { type SegmentName, TEMP_SUFFIX, segmentName } from './segment-name.js';
import { EMPTY_HARD_STATE, type Entry, type HardState, type SnapshotMarker, ZERO_MARKER } from './types.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** Segments are written with O_DSYNC where the file system offers it: a durable write is one trip to the thread pool. */
const SEGMENT_OPEN = { dataSync: true } as const;

export interface WalOptions {
  /** The file system (default: the real one). Tests inject faults here. */
  readonly fs?: Fs;
  /** Roll to a new segment once the current one holds this many bytes (default 64 MiB). */
  readonly segmentBytes?: number;
  /**
   * Extend every segment to segmentBytes when it is begun (with truncate: a sparse file, no
   * space or time spent), as etcd preallocates its segments, so that a write lands inside the
   * file instead of growing it: on ext4 a durable write that grows a file also commits the
   * file's new size through the journal. Three members writing 400 B records on this
   * machine's disk: p50 276-295 µs appending, 204-225 µs into the extended file. The unused
   * tail reads as zeros, which recovery takes as the end of the records (default false).
   */
  readonly preallocate?: boolean;
  readonly logger?: Logger;
}

export interface WalOpenOptions extends WalOptions {
  /**
   * The snapshot the caller restored (default {0, 0}, the empty initial state). Its marker must
   * be in the WAL, and the returned entries are the ones after its index.
   */
  readonly from?: SnapshotMarker;
}

export interface WalOpenResult {
  readonly wal: Wal;
  readonly metadata: Uint8Array;
  /** The last hard state written ({0, 0n, 0} if none). */
  readonly hardState: HardState;
  /** The last snapshot marker written. */
  readonly snapshot: SnapshotMarker;
  /** Every snapshot marker still in the WAL, oldest first (to pick a snapshot file it knows). */
  readonly snapshots: readonly SnapshotMarker[];
  /** The raft log after `from.index`, contiguous. */
  readonly entries: Entry[];
  /** What recovery cut off, if the WAL ended in a torn write. */
  readonly repair: WalRepair | undefined;
}

export interface WalStats {
  /** Records written (entries batches, hard states, markers; segment headers excluded). */
  recordsWritten: number;
  /** save() and saveSnapshotMarker() calls that wrote something. */
  saves: number;
  /** write() rounds, each followed by one fdatasync. */
  writes: number;
  /** fdatasync calls on segments (including segment headers at roll). */
  fsyncs: number;
  bytesWritten: number;
  segmentsCreated: number;
}

/** One round of group commit: everything saved while the previous round was on disk. */
interface Batch {
  readonly frames: FrameBuffer;
  saves: number;
  /** The state once this batch is written; a segment begun after it repeats these. */
  lastIndex: number;
  hardState: HardState;
  snapshot: SnapshotMarker;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

interface SegmentFile {
  readonly file: FsFile;
  readonly bytes: number;
  /** The chain value after the header. */
  readonly crc: number;
}

interface WalInit {
  readonly dir: string;
  readonly fs: Fs;
  readonly segmentBytes: number;
  readonly logger: Logger;
  readonly metadata: Uint8Array;
  readonly segments: SegmentName[];
  readonly file: FsFile;
  readonly fileBytes: number;
  readonly chainCrc: number;
  readonly lastIndex: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotMarker;
  /** The size new segments are extended to, if preallocating. */
  readonly preallocate: number | undefined;
}

export class Wal {
  private readonly dir: string;
  private readonly fs: Fs;
  private readonly segmentBytes: number;
  private readonly preallocate: number | undefined;
  private readonly logger: Logger;
  private readonly metadata: Uint8Array;
  /** In sequence order; the last is the one being appended to. Never empty. */
  private readonly segmentList: SegmentName[];
  private file: FsFile;
  /** Bytes in the current segment = where the next write goes. */
  private fileBytes: number;
  /** The chain value of the last record sealed: the next record's CRC starts from it. */
  private chainCrc: number;

  // What has been handed to the flush loop, for checking the next save: entries must continue
  // at or below queuedLastIndex + 1, and markers must not go back.
  private queuedLastIndex: number;
  private queuedHardState: HardState;
  private queuedSnapshot: SnapshotMarker;
  // What has been sealed into writes: a newly rolled segment's header repeats these.
  private writtenLastIndex: number;
  private writtenHardState: HardState;
  private writtenSnapshot: SnapshotMarker;

  /** The batch collecting saves; undefined when nothing is queued. */
  private pending: Batch | undefined;
  /** The batch being written and fsynced; at most one. */
  private inflight: Batch | undefined;
  private flushScheduled = false;
  private failure: WalError | undefined;
  private closing: Promise<void> | undefined;
  private readonly counters: WalStats = { recordsWritten: 0, saves: 0, writes: 0, fsyncs: 0, bytesWritten: 0, segmentsCreated: 0 };

  private constructor(init: WalInit) {
    assert(init.segments.length > 0, 'wal: no segment to append to');
    this.dir = init.dir;
    this.fs = init.fs;
    this.segmentBytes = init.segmentBytes;
    this.preallocate = init.preallocate;
    this.logger = init.logger;
    this.metadata = init.metadata;
    this.segmentList = init.segments;
    this.file = init.file;
    this.fileBytes = init.fileBytes;
    this.chainCrc = init.chainCrc;
    this.queuedLastIndex = this.writtenLastIndex = init.lastIndex;
    this.queuedHardState = this.writtenHardState = init.hardState;
    this.queuedSnapshot = this.writtenSnapshot = init.snapshot;
  }

  /**
   * Creates a new WAL in `dir` (made if missing; must hold no segments) whose segments all carry
   * `metadata`. The first segment holds the snapshot marker {0, 0}.
   */
  static async create(dir: string, metadata: Uint8Array, opts: WalOptions = {}): Promise<Wal> {
    const fs = opts.fs ?? nodeFs;
    const segmentBytes = checkSegmentBytes(opts.segmentBytes);
    await fs.mkdir(dir);
    await syncDir(fs, path.dirname(path.resolve(dir)));
    const existing = await listSegments(fs, dir);
    if (existing.length > 0) throw new WalError('WAL_EXISTS', `wal: ${dir} already holds segment ${existing[0]?.name}`);
    const seg = segmentName(0, 0);
    const preallocate = opts.preallocate === true ? segmentBytes : undefined;
    const header = await writeSegment(fs, dir, seg, 0, metadata, EMPTY_HARD_STATE, ZERO_MARKER, preallocate);
    return new Wal({
      dir,
      fs,
      segmentBytes,
      preallocate,
      logger: opts.logger ?? nopLogger,
      metadata,
      segments: [seg],
      file: header.file,
      fileBytes: header.bytes,
      chainCrc: header.crc,
      lastIndex: 0,
      hardState: EMPTY_HARD_STATE,
      snapshot: ZERO_MARKER,
    });
  }

  /**
   * Reads the WAL in `dir` back (cutting a torn tail; refusing corruption with a
   * WalCorruptError naming file and offset) and readies it for appending.
   */
  static async open(dir: string, opts: WalOpenOptions = {}): Promise<WalOpenResult> {
    const fs = opts.fs ?? nodeFs;
    const logger = opts.logger ?? nopLogger;
    const segmentBytes = checkSegmentBytes(opts.segmentBytes);
    const from = opts.from ?? ZERO_MARKER;
    checkMarker(from);
    const r = await recover(fs, dir, from, logger, opts.preallocate === true);
    const last = r.segments[r.segments.length - 1];
    assert(last !== undefined, 'wal: recovery left no segment');
    const file = await fs.open(join(dir, last.name), 'r+', SEGMENT_OPEN);
    const preallocate = opts.preallocate === true ? segmentBytes : undefined;
    // A segment begun without preallocation (or cut at a torn tail) is extended now.
    if (preallocate !== undefined && r.tailBytes < preallocate && (await file.stat()).size < preallocate) {
      await file.truncate(preallocate);
      await file.datasync();
    }
    const wal = new Wal({
      dir,
      fs,
      segmentBytes,
      preallocate,
      logger,
      metadata: r.metadata,
      segments: r.segments,
      file,
      fileBytes: r.tailBytes,
      chainCrc: r.chainCrc,
      lastIndex: r.lastIndex,
      hardState: r.hardState,
      snapshot: r.snapshot,
    });
    return {
      wal,
      metadata: r.metadata,
      hardState: r.hardState,
      snapshot: r.snapshot,
      snapshots: r.snapshots,
      entries: r.entries,
      repair: r.repair,
    };
  }

  /**
   * Appends `entries` (contiguous, starting at or below lastIndex + 1; a lower start replaces
   * the log from there on, as raft does) and then `hardState`, and resolves once both are
   * durable. With nothing to write it resolves once every earlier save is durable.
   * Rejects with WAL_POISONED after any failed write or fsync, WAL_CLOSED after close().
   */
  save(hardState: HardState | undefined, entries: readonly Entry[]): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    const first = entries[0];
    if (first === undefined && hardState === undefined) return this.barrier();
    // Check everything before queuing anything: an assertion must not leave half a save queued.
    checkEntries(entries);
    if (first !== undefined) {
      assert(
        first.index <= this.queuedLastIndex + 1,
        `wal: entries start at ${first.index}, leaving a gap after ${this.queuedLastIndex}`,
      );
    }
    if (hardState !== undefined) checkHardState(hardState);
    // Encoded before queuing too, for the same reason. (msgpackr's results are views into its
    // own buffer that later packs do not overwrite; FrameBuffer copies them anyway.)
    const entriesPayload = first !== undefined ? encodeEntries(entries) : undefined;
    const hardStatePayload = hardState !== undefined ? encodeHardState(hardState) : undefined;

    const batch = this.batchForSave();
    if (entriesPayload !== undefined) {
      batch.frames.append(RecordType.Entries, entriesPayload);
      this.queuedLastIndex = (entries[entries.length - 1] as Entry).index;
    }
    // After the entries, as etcd does: a torn write may keep the entries without the hard state
    // (harmless), never a commit index pointing past entries that did not make it.
    if (hardState !== undefined && hardStatePayload !== undefined) {
      batch.frames.append(RecordType.HardState, hardStatePayload);
      this.queuedHardState = hardState;
    }
    batch.lastIndex = this.queuedLastIndex;
    batch.hardState = this.queuedHardState;
    return batch.promise;
  }

  /**
   * Records that a snapshot at (index, term) is durable (write the snapshot file first). A
   * marker beyond the log (a follower installing the leader's snapshot) moves lastIndex to it:
   * the next entries continue after the snapshot.
   */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    const refused = this.refusal();
    if (refused !== undefined) return refused;
    checkMarker(marker);
    assert(marker.index >= this.queuedSnapshot.index, `wal: snapshot marker ${marker.index} is older than ${this.queuedSnapshot.index}`);
    const payload = encodeMarker(marker);
    const batch = this.batchForSave();
    batch.frames.append(RecordType.SnapshotMarker, payload);
    this.queuedSnapshot = { index: marker.index, term: marker.term };
    if (marker.index > this.queuedLastIndex) this.queuedLastIndex = marker.index;
    batch.lastIndex = this.queuedLastIndex;
    batch.snapshot = this.queuedSnapshot;
    return batch.promise;
  }

  /**
   * Deletes the segments wholly before the one holding `index` (normally the index of a
   * snapshot that is durable and marked); never the segment being appended to. Resolves to the
   * number of segments deleted.
   */
  async releaseTo(index: number): Promise<number> {
    assert(Number.isSafeInteger(index) && index >= 0, `wal: releaseTo(${index})`);
    if (this.closing !== undefined) throw new WalError('WAL_CLOSED', 'wal: closed');
    // The segment holding `index` is the last one begun at or below it (see segment-name.ts).
    let holder = -1;
    for (let i = this.segmentList.length - 1; i >= 0; i--) {
      if ((this.segmentList[i] as SegmentName).firstIndex <= index) {
        holder = i;
        break;
      }
    }
    if (holder <= 0) return 0;
    // Taken off the list before any await, so concurrent calls never delete a file twice.
    const doomed = this.segmentList.splice(0, holder);
    assert(this.segmentList.length > 0, 'wal: releaseTo removed the current segment');
    // Oldest first: a crash in the middle leaves a contiguous sequence.
    for (const seg of doomed) await unlinkIfExists(this.fs, join(this.dir, seg.name));
    await syncDir(this.fs, this.dir);
    return doomed.length;
  }

  /** Waits for queued saves, then closes the current segment. Later saves reject. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  stats(): WalStats {
    return { ...this.counters };
  }

  /** The segment file names, oldest first. */
  segments(): string[] {
    return this.segmentList.map((s) => s.name);
  }

  /** The last index saved (or covered by a snapshot marker); the next entries start at or below lastIndex + 1. */
  lastIndex(): number {
    return this.queuedLastIndex;
  }

  private async closeNow(): Promise<void> {
    const last = this.pending ?? this.inflight;
    if (last !== undefined) await last.promise.catch(() => undefined);
    assert(this.pending === undefined && this.inflight === undefined, 'wal: saves queued after close');
    await this.file.close();
  }

  private refusal(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing !== undefined) return Promise.reject(new WalError('WAL_CLOSED', 'wal: closed'));
    return undefined;
  }

  private barrier(): Promise<void> {
    const last = this.pending ?? this.inflight;
    return last === undefined ? Promise.resolve() : last.promise;
  }

  private batchForSave(): Batch {
    let batch = this.pending;
    if (batch === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      batch = {
        frames: new FrameBuffer(),
        saves: 0,
        lastIndex: this.queuedLastIndex,
        hardState: this.queuedHardState,
        snapshot: this.queuedSnapshot,
        promise,
        resolve,
        reject,
      };
      this.pending = batch;
      this.scheduleFlush();
    }
    batch.saves++;
    return batch;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.inflight !== undefined) return;
    this.flushScheduled = true;
    // A microtask, not right away: saves made in the same turn of the event loop (one raft
    // Ready, or many callers woken by the same resolve) share the first write too.
    queueMicrotask(() => {
      this.flushScheduled = false;
      void this.flushLoop();
    });
  }

  /**
   * Writes batches one at a time until none is pending. Bounded by the number of batches
   * queued; each round is one write and one fdatasync (plus a roll when the segment is full).
   */
  private async flushLoop(): Promise<void> {
    assert(this.inflight === undefined, 'wal: two flush loops');
    while (this.inflight === undefined && this.pending !== undefined && this.failure === undefined) {
      const batch = this.pending;
      this.pending = undefined;
      this.inflight = batch;
      try {
        await this.commit(batch);
      } catch (err) {
        this.poison(err);
      }
      this.inflight = undefined;
      if (this.failure === undefined) batch.resolve();
      else batch.reject(this.failure);
    }
    if (this.failure !== undefined && this.pending !== undefined) {
      const rest = this.pending;
      this.pending = undefined;
      rest.reject(this.failure);
    }
  }

  private async commit(batch: Batch): Promise<void> {
    assert(batch.frames.frameCount > 0, 'wal: committing an empty batch');
    if (this.fileBytes >= this.segmentBytes) await this.roll();
    // Seal synchronously: the chain must follow file order exactly.
    this.chainCrc = batch.frames.seal(this.chainCrc);
    this.writtenLastIndex = batch.lastIndex;
    this.writtenHardState = batch.hardState;
    this.writtenSnapshot = batch.snapshot;

    const position = this.fileBytes;
    const bytes = await writeFully(this.file, [batch.frames.bytes()], position);
    // Only this loop moves the write position, and it runs one batch at a time.
    assert(this.fileBytes === position && bytes === batch.frames.byteLength, 'wal: concurrent writes to a segment');
    this.fileBytes = position + bytes;
    this.counters.writes++;
    this.counters.bytesWritten += bytes;
    if (this.file.writesDurable !== true) await this.file.datasync();
    this.counters.fsyncs++;
    this.counters.recordsWritten += batch.frames.frameCount;
    this.counters.saves += batch.saves;
  }

  /** Starts the next segment; called only from the flush loop, between writes. */
  private async roll(): Promise<void> {
    const prev = this.segmentList[this.segmentList.length - 1];
    assert(prev !== undefined, 'wal: no current segment');
    const next = segmentName(prev.seq + 1, this.writtenLastIndex + 1);
    const hs = isEmptyHardState(this.writtenHardState) ? undefined : this.writtenHardState;
    const header = await writeSegment(this.fs, this.dir, next, this.chainCrc, this.metadata, hs, this.writtenSnapshot, this.preallocate);
    this.counters.fsyncs++;
    this.counters.segmentsCreated++;
    const old = this.file;
    this.file = header.file;
    this.fileBytes = header.bytes;
    this.chainCrc = header.crc;
    this.segmentList.push(next);
    try {
      await old.close();
    } catch (err) {
      // Its data was fsynced before the roll; a failed close loses nothing.
      this.logger.warn('wal: closing a finished segment failed', { file: prev.name, error: String(err) });
    }
  }

  private poison(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = new WalError('WAL_POISONED', `wal: a write or fsync failed; nothing after it is durable: ${String(err)}`, { cause: err });
    this.logger.error('wal: poisoned', { dir: this.dir, error: String(err) });
  }
}

function checkSegmentBytes(v: number | undefined): number {
  const bytes = v ?? DEFAULT_SEGMENT_BYTES;
  assert(Number.isSafeInteger(bytes) && bytes > 0, `wal: segmentBytes must be a positive integer, got ${v}`);
  return bytes;
}

function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0n && hs.commit === 0;
}

/**
 * Writes a new segment holding only its header (crc seed, metadata, hard state if any, snapshot
 * marker) as a temp file, fsyncs it, renames it into place and fsyncs the directory. Returns the
 * still-open file, ready for appending.
 */
async function writeSegment(
  fs: Fs,
  dir: string,
  seg: SegmentName,
  seed: number,
  metadata: Uint8Array,
  hardState: HardState | undefined,
  snapshot: SnapshotMarker,
  preallocate: number | undefined,
): Promise<SegmentFile> {
  const frames = new FrameBuffer(512);
  frames.append(RecordType.Crc, encodeCrc(seed));
  frames.append(RecordType.Metadata, encodeMetadata(metadata));
  if (hardState !== undefined) frames.append(RecordType.HardState, encodeHardState(hardState));
  frames.append(RecordType.SnapshotMarker, encodeMarker(snapshot));
  // The Crc record is sealed with its own seed and does not advance the chain.
  const crc = frames.seal(seed);

  const final = join(dir, seg.name);
  const temp = final + TEMP_SUFFIX;
  const file = await fs.open(temp, 'w+', SEGMENT_OPEN);
  try {
    const bytes = await writeFully(file, [frames.bytes()], 0);
    // The extension is metadata: the datasync makes it durable with the header.
    if (preallocate !== undefined && preallocate > bytes) await file.truncate(preallocate);
    if (file.writesDurable !== true || preallocate !== undefined) await file.datasync();
    await fs.rename(temp, final);
    await syncDir(fs, dir);
    return { file, bytes, crc };
  } catch (err) {
    await file.close().catch(() => undefined);
    await unlinkIfExists(fs, temp).catch(() => undefined);
    throw err;
  }
}
