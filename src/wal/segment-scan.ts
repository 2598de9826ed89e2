/**
 * Reading one segment's bytes back into records, and telling a torn tail from corruption.
 *
 * Damage comes in two kinds:
 * - "Soft" damage is what a crash can leave behind: a header cut short, zeroed space, a record
 *   running past the end of the file, a CRC that does not match. scanSegment stops there and
 *   reports it; recover.ts then decides (with findLaterBatchStart) whether it is the tail.
 * - "Hard" damage cannot come from a crash: a record whose CRC is right but whose payload is
 *   malformed, a Crc record in the middle of a segment, a segment whose chain seed does not match
 *   the end of its predecessor. That is thrown at once as WalCorruptError.
 *
 * Why a damaged record followed by valid ones can still be a torn tail: the kernel may write the
 * pages of one write() back in any order, so a crash during the last write can leave its records
 * 3 and 4 on disk and not record 2. No earlier write can be damaged that way: each write starts
 * only after the previous fdatasync returned. So damage is a torn tail exactly when no record
 * after it starts a later write (carries BATCH_START_FLAG); otherwise acknowledged data follows
 * the damage and we must not cut it away.
 */
import {
  ALIGN_BYTES,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  RecordType,
  frameBytes,
  frameCrc,
  isRecordType,
  readHeader,
} from './record.js';
import { WalCorruptError } from './errors.js';
import { PayloadError, decodeCrc, decodeEntries, decodeHardState, decodeMarker, decodeMetadata } from './payload.js';
import type { Entry, HardState, SnapshotMarker } from './types.js';

export type DecodedRecord =
  | { readonly type: typeof RecordType.Crc; readonly offset: number; readonly seed: number }
  | { readonly type: typeof RecordType.Metadata; readonly offset: number; readonly metadata: Uint8Array }
  | { readonly type: typeof RecordType.Entries; readonly offset: number; readonly entries: Entry[] }
  | { readonly type: typeof RecordType.HardState; readonly offset: number; readonly hardState: HardState }
  | { readonly type: typeof RecordType.SnapshotMarker; readonly offset: number; readonly marker: SnapshotMarker };

export interface Damage {
  readonly offset: number;
  readonly reason: string;
}

export interface SegmentScan {
  /** The valid records before the first damage (or the end of the file), in order. */
  readonly records: DecodedRecord[];
  /** The chain value after the last valid record; undefined when there is none. */
  readonly lastCrc: number | undefined;
  /** The first soft damage; undefined when the records run cleanly to the end of the file. */
  readonly damage: Damage | undefined;
}

/**
 * Decodes `buf` (one whole segment) from the front. `expectedSeed` is the chain value the
 * previous segment ended with, or undefined when this is the first segment read (the ones before
 * it were released). `file` only names the segment in errors.
 */
export function scanSegment(buf: Buffer, file: string, expectedSeed: number | undefined): SegmentScan {
  const records: DecodedRecord[] = [];
  let chain: number | undefined;
  let offset = 0;
  let damage: Damage | undefined;
  // Bounded: every round advances offset by at least one frame (>= 16 bytes) or stops.
  while (offset < buf.byteLength) {
    const h = readHeader(buf, offset);
    if (h === undefined) {
      damage = { offset, reason: `truncated record header (${buf.byteLength - offset} bytes left)` };
      break;
    }
    if (h.length === 0 && h.crc === 0 && h.type === 0 && !h.batchStart) {
      damage = { offset, reason: 'zeroed space where a record header should be' };
      break;
    }
    if (!isRecordType(h.type)) {
      damage = { offset, reason: `unknown record type ${h.type}` };
      break;
    }
    const size = frameBytes(h.length);
    if (h.length > MAX_PAYLOAD_BYTES || offset + size > buf.byteLength) {
      damage = { offset, reason: `record of ${h.length} payload bytes runs past the end of the file (${buf.byteLength} bytes)` };
      break;
    }
    const payload = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + h.length);

    if (offset === 0) {
      // The first record must be the chain seed; its CRC is seeded with the seed it carries.
      if (h.type !== RecordType.Crc) {
        damage = { offset, reason: `segment starts with record type ${h.type}, not a crc record` };
        break;
      }
      let seed: number;
      try {
        seed = decodeCrc(payload);
      } catch {
        damage = { offset, reason: 'crc mismatch (undecodable chain seed)' };
        break;
      }
      if (frameCrc(buf, offset, h.length, seed) !== h.crc) {
        damage = { offset, reason: 'crc mismatch' };
        break;
      }
      if (expectedSeed !== undefined && seed !== expectedSeed) {
        throw new WalCorruptError(file, offset, `crc chain broken: segment seed ${seed}, previous segment ended at ${expectedSeed}`);
      }
      chain = seed;
      records.push({ type: RecordType.Crc, offset, seed });
      offset += size;
      continue;
    }

    if (chain === undefined) throw new Error('unreachable: chain is set by the record at offset 0');
    if (frameCrc(buf, offset, h.length, chain) !== h.crc) {
      damage = { offset, reason: 'crc mismatch' };
      break;
    }
    records.push(decodeRecord(h.type, payload, offset, file));
    chain = h.crc;
    offset += size;
  }
  return { records, lastCrc: chain, damage };
}

function decodeRecord(type: RecordType, payload: Uint8Array, offset: number, file: string): DecodedRecord {
  try {
    switch (type) {
      case RecordType.Crc:
        throw new PayloadError('crc record in the middle of a segment');
      case RecordType.Metadata:
        return { type, offset, metadata: decodeMetadata(payload) };
      case RecordType.Entries:
        return { type, offset, entries: decodeEntries(payload) };
      case RecordType.HardState:
        return { type, offset, hardState: decodeHardState(payload) };
      case RecordType.SnapshotMarker:
        return { type, offset, marker: decodeMarker(payload) };
    }
  } catch (err) {
    if (err instanceof PayloadError) throw new WalCorruptError(file, offset, `${err.message} (the record's crc is valid)`);
    throw err;
  }
}

/**
 * Looks past damage at `from` for a valid record that starts a later write. Returns its offset,
 * or undefined when none exists (the damage is a torn tail).
 *
 * The record after the damage cannot be checked the normal way, because its CRC chains from the
 * damaged record. So every 8-byte-aligned offset after `from` is tried as a record start, with
 * these candidates for the chain value before it:
 * - the CRC field of the damaged record (right when its payload, type or length was hit);
 * - the CRC the damaged record should have, computed from `chainBefore` (the chain value before
 *   it) over its bytes as they are (right when only its CRC field was hit); for damage at
 *   offset 0 the record is the Crc record, so the candidates are `chainBefore` (the previous
 *   segment's end) and the seed it carries;
 * - the CRC field of every plausible frame that ends exactly there (which finds the records
 *   after a damaged length field, from the second valid one on).
 * Each try is a 32-bit CRC match, so garbage passes with odds of about 2^-32 per try.
 *
 * Cost: one pass over the bytes after `from`, and a few CRCs per plausible header; it runs only
 * on a damaged WAL.
 */
export function findLaterBatchStart(buf: Buffer, from: number, chainBefore: number | undefined): number | undefined {
  const fixed = damagedRecordCandidates(buf, from, chainBefore);
  // frame end offset -> CRC fields of the plausible frames that end there
  const endsAt = new Map<number, number[]>();
  for (let y = from; y + HEADER_BYTES <= buf.byteLength; y += ALIGN_BYTES) {
    const h = readHeader(buf, y);
    if (h === undefined) break;
    // A Crc record is only ever at offset 0, so it is never a later record.
    if (!isRecordType(h.type) || h.type === RecordType.Crc || h.length > MAX_PAYLOAD_BYTES) continue;
    const end = y + frameBytes(h.length);
    if (end > buf.byteLength) continue;
    if (y > from) {
      const candidates = endsAt.get(y);
      let valid = false;
      for (let k = 0; !valid && k < fixed.length; k++) valid = frameCrc(buf, y, h.length, fixed[k] as number) === h.crc;
      for (let k = 0; !valid && candidates !== undefined && k < candidates.length; k++) {
        valid = frameCrc(buf, y, h.length, candidates[k] as number) === h.crc;
      }
      if (valid && h.batchStart) return y;
    }
    const list = endsAt.get(end);
    if (list === undefined) endsAt.set(end, [h.crc]);
    else list.push(h.crc);
  }
  return undefined;
}

function damagedRecordCandidates(buf: Buffer, from: number, chainBefore: number | undefined): number[] {
  const out: number[] = [];
  const h = readHeader(buf, from);
  if (h === undefined) return out;
  out.push(h.crc);
  const fits = h.length <= MAX_PAYLOAD_BYTES && from + frameBytes(h.length) <= buf.byteLength;
  if (from === 0) {
    if (chainBefore !== undefined) out.push(chainBefore);
    if (fits) {
      try {
        out.push(decodeCrc(buf.subarray(HEADER_BYTES, HEADER_BYTES + h.length)));
      } catch {
        // not a decodable seed: nothing to add
      }
    }
  } else if (chainBefore !== undefined && fits) {
    out.push(frameCrc(buf, from, h.length, chainBefore));
  }
  return out;
}
