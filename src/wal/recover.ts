/**
 * Reading a WAL directory back after a restart or crash: every segment in order, the chain
 * checked across them, the raft log replayed, and a torn tail cut off so appending can resume.
 *
 * The repair rule (see segment-scan.ts for why it is sound):
 * - damage in a segment that is followed by a segment holding any valid record: corruption;
 * - damage followed, in its own segment, by a valid record that starts a later write: corruption;
 * - otherwise it is the torn tail of the last write: truncate the segment at the damage (or
 *   delete it when nothing valid is left in it), and delete the empty segments after it.
 * Corruption is a WalCorruptError naming the file and byte offset; nothing is modified then.
 */
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import { WalCorruptError, WalError } from './errors.js';
import { type Fs, join, readWholeFile, syncDir, unlinkIfExists } from './fs.js';
import { RecordType } from './record.js';
import { LogReplay } from './replay.js';
import { type Damage, findLaterBatchStart, scanSegment } from './segment-scan.js';
import { SEGMENT_SUFFIX, type SegmentName, TEMP_SUFFIX, parseSegmentName } from './segment-name.js';
import { EMPTY_HARD_STATE, type Entry, type HardState, type SnapshotMarker } from './types.js';

export interface WalRepair {
  /** The segment that was cut (or deleted, when nothing valid was left in it). */
  readonly file: string;
  /** Where the cut was made: the damaged record's offset. */
  readonly offset: number;
  readonly reason: string;
  /** Segments deleted whole (the cut one if it was emptied, and empty ones after it). */
  readonly droppedSegments: readonly string[];
}

export interface Recovered {
  /** The segments that remain, in order; the last one is where appending resumes. */
  readonly segments: SegmentName[];
  readonly metadata: Uint8Array;
  readonly hardState: HardState;
  /** The last snapshot marker written. */
  readonly snapshot: SnapshotMarker;
  /** Every snapshot marker still in the WAL, in order (duplicates from segment headers merged). */
  readonly snapshots: SnapshotMarker[];
  /** The log after `from.index`. */
  readonly entries: Entry[];
  /** The last index written (the whole log, whatever `from` is). */
  readonly lastIndex: number;
  /** The chain value after the last valid record: the next record chains from it. */
  readonly chainCrc: number;
  /** Size of the last segment after repair: where the next write goes. */
  readonly tailBytes: number;
  readonly repair: WalRepair | undefined;
}

/** Lists the directory's segments in sequence order, removing leftovers of unfinished rolls. */
export async function listSegments(fs: Fs, dir: string): Promise<SegmentName[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new WalError('WAL_NOT_FOUND', `wal: no directory ${dir}`, { cause: err });
    throw err;
  }
  const segments: SegmentName[] = [];
  for (const name of names) {
    // A temp segment is a roll or create that never reached its rename: never acknowledged.
    if (name.endsWith(SEGMENT_SUFFIX + TEMP_SUFFIX)) await unlinkIfExists(fs, join(dir, name));
    const parsed = parseSegmentName(name);
    if (parsed !== undefined) segments.push(parsed);
  }
  segments.sort((a, b) => a.seq - b.seq);
  return segments;
}

/** Zeros compared at a time when checking a tail (native memcmp, not a loop over bytes). */
const ZEROS = Buffer.alloc(64 * 1024);

/** Every byte of buf from `offset` on is zero. */
function zeroFrom(buf: Buffer, offset: number): boolean {
  for (let at = offset; at < buf.byteLength; at += ZEROS.byteLength) {
    const part = buf.subarray(at, Math.min(at + ZEROS.byteLength, buf.byteLength));
    if (!part.equals(ZEROS.subarray(0, part.byteLength))) return false;
  }
  return true;
}

/**
 * `zeroTailIsEnd`: the segments were preallocated (WalOptions.preallocate), so zeros from some
 * record boundary to the end of a segment are space never written, not damage. (A last write
 * none of whose blocks reached the disk looks the same; it was never acknowledged.)
 */
export async function recover(fs: Fs, dir: string, from: SnapshotMarker, logger: Logger, zeroTailIsEnd = false): Promise<Recovered> {
  const segments = await listSegments(fs, dir);
  const firstSegment = segments[0];
  if (firstSegment === undefined) throw new WalError('WAL_NOT_FOUND', `wal: no segment files in ${dir}`);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1] as SegmentName;
    const cur = segments[i] as SegmentName;
    if (cur.seq !== prev.seq + 1) {
      throw new WalCorruptError(join(dir, cur.name), 0, `segment sequence gap: the previous segment is ${prev.name}`);
    }
  }

  const replay = new LogReplay(from);
  let metadata: Uint8Array | undefined;
  let hardState: HardState = EMPTY_HARD_STATE;
  const snapshots: SnapshotMarker[] = [];
  let chainCrc: number | undefined;
  let tailBytes = 0;
  let repair: WalRepair | undefined;
  let kept = segments.length;

  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as SegmentName;
    const file = join(dir, seg.name);
    const buf = await readWholeFile(fs, file);
    const scan = scanSegment(buf, file, chainCrc);

    for (const rec of scan.records) {
      switch (rec.type) {
        case RecordType.Crc:
          break;
        case RecordType.Metadata:
          if (metadata === undefined) metadata = rec.metadata;
          else if (!Buffer.from(metadata).equals(rec.metadata)) {
            throw new WalCorruptError(file, rec.offset, 'metadata differs from the earlier segments');
          }
          break;
        case RecordType.Entries:
          replay.append(rec.entries, `${file} offset ${rec.offset}`);
          break;
        case RecordType.HardState:
          hardState = rec.hardState;
          break;
        case RecordType.SnapshotMarker: {
          const prev = snapshots[snapshots.length - 1];
          if (prev === undefined || prev.index !== rec.marker.index || prev.term !== rec.marker.term) snapshots.push(rec.marker);
          replay.marker(rec.marker);
          break;
        }
      }
    }

    const damage: Damage | undefined = scan.damage ?? (scan.records.length === 0 ? { offset: 0, reason: 'empty segment' } : undefined);
    if (damage === undefined) {
      chainCrc = scan.lastCrc;
      tailBytes = buf.byteLength;
      continue;
    }
    if (zeroTailIsEnd && scan.records.length > 0 && zeroFrom(buf, damage.offset)) {
      chainCrc = scan.lastCrc;
      tailBytes = damage.offset;
      continue;
    }

    // Damage: legal only as the torn tail of the last write. Check everything before touching
    // the disk, so a refused start leaves the evidence as it was.
    const later = findLaterBatchStart(buf, damage.offset, damage.offset === 0 ? chainCrc : scan.lastCrc);
    if (later !== undefined) {
      throw new WalCorruptError(file, damage.offset, `${damage.reason}; valid records of a later write follow at offset ${later}`);
    }
    const after = segments.slice(i + 1);
    for (const next of after) {
      const nextBuf = await readWholeFile(fs, join(dir, next.name));
      if (scanSegment(nextBuf, join(dir, next.name), undefined).records.length > 0 || findLaterBatchStart(nextBuf, 0, undefined) !== undefined) {
        throw new WalCorruptError(file, damage.offset, `${damage.reason}; the later segment ${next.name} holds valid records`);
      }
    }
    const emptied = scan.records.length === 0;
    if (emptied && i === 0) throw new WalCorruptError(file, damage.offset, `${damage.reason}; no valid record is left in the WAL`);
    if (metadata === undefined) throw new WalCorruptError(file, damage.offset, `${damage.reason}; the WAL has no metadata record before it`);

    const dropped: string[] = [];
    // Newest first, so a crash in the middle leaves a contiguous sequence.
    for (const next of after.reverse()) {
      await unlinkIfExists(fs, join(dir, next.name));
      dropped.push(next.name);
    }
    if (emptied) {
      await unlinkIfExists(fs, file);
      dropped.push(seg.name);
      kept = i;
    } else {
      const handle = await fs.open(file, 'r+');
      try {
        await handle.truncate(damage.offset);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      chainCrc = scan.lastCrc;
      tailBytes = damage.offset;
      kept = i + 1;
    }
    await syncDir(fs, dir);
    repair = { file, offset: damage.offset, reason: damage.reason, droppedSegments: dropped };
    logger.warn('wal: cut a torn tail', { file, offset: damage.offset, reason: damage.reason, droppedSegments: dropped });
    break;
  }

  if (metadata === undefined) throw new WalCorruptError(join(dir, firstSegment.name), 0, 'the WAL has no metadata record');
  assert(chainCrc !== undefined && kept > 0, 'wal: recovery kept no segment');
  if (!snapshots.some((m) => m.index === from.index && m.term === from.term)) {
    throw new WalError('WAL_SNAPSHOT_NOT_FOUND', `wal: no snapshot marker for index ${from.index} term ${from.term} in ${dir}`);
  }
  const snapshot = snapshots[snapshots.length - 1];
  assert(snapshot !== undefined, 'wal: no snapshot marker');
  return {
    segments: segments.slice(0, kept),
    metadata,
    hardState,
    snapshot,
    snapshots,
    entries: replay.entries(),
    lastIndex: replay.lastIndex,
    chainCrc,
    tailBytes,
    repair,
  };
}
