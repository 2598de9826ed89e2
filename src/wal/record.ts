/**
 * The record frame. Every record in a segment is laid out as
 *
 *   offset 0  u32 LE  payload length in bytes (unpadded)
 *   offset 4  u32 LE  CRC32C of bytes [8, 9 + length), seeded with the previous record's CRC
 *   offset 8  u8      type (low 7 bits) | BATCH_START_FLAG
 *   offset 9  ...     msgpackr payload
 *             zeros   up to the next multiple of 8
 *
 * Example: a hard-state record with a 13-byte payload occupies align8(9 + 13) = 24 bytes.
 *
 * Why each part:
 * - The CRC is chained (like etcd's): it covers the previous record's CRC, so a record that is
 *   valid on its own cannot be spliced in from another place or another WAL. Each segment starts
 *   with a Crc record whose payload is the chain value so far (its "seed"), so a segment can be
 *   checked on its own once older segments are released, and joined to its predecessor when not.
 *   A Crc record does not advance the chain.
 * - 8-byte alignment (like etcd's) puts every header at an aligned offset, so the corruption
 *   scan has to try only one offset in eight.
 * - BATCH_START_FLAG marks the first record of each write()+fdatasync(). Only the last write can
 *   be torn by a crash (the next write starts after the previous fsync), so a damaged record
 *   followed by valid records of the same write is a torn tail, while one followed by the start
 *   of a later write is corruption of acknowledged data. See segment-scan.ts.
 * - An all-zero header (length 0, CRC 0, type 0) is never written (types start at 1), so zeroed
 *   space at the end of a file reads as "no record here" rather than as a record.
 */
import { crc32c } from '@node-rs/crc32';
import { assert } from '../util/assert.js';

export const RecordType = {
  /** The chain seed; first record of every segment. */
  Crc: 1,
  /** Opaque bytes given to Wal.create (node and cluster ids); in every segment's header. */
  Metadata: 2,
  /** A contiguous batch of raft entries. */
  Entries: 3,
  HardState: 4,
  SnapshotMarker: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const BATCH_START_FLAG = 0x80;
export const HEADER_BYTES = 9;
export const ALIGN_BYTES = 8;
/** Payload lengths are u32; anything near that is a bug or garbage, not a record. */
export const MAX_PAYLOAD_BYTES = 0xffff_fff0 - HEADER_BYTES;

export function isRecordType(t: number): t is RecordType {
  return t >= RecordType.Crc && t <= RecordType.SnapshotMarker;
}

export function frameBytes(payloadBytes: number): number {
  return (HEADER_BYTES + payloadBytes + ALIGN_BYTES - 1) & ~(ALIGN_BYTES - 1);
}

/**
 * The frames of one write, laid out back to back in one buffer: one allocation and one copy of
 * each payload per record, and a single buffer for write(). Frames are appended with their CRCs
 * unset, because a CRC depends on the record before it, which is only fixed when the write is
 * assembled; seal() then sets them all in file order.
 *
 * Example: append(Entries, p1); append(HardState, p2); seal(c0) sets frame 1's CRC to
 * crc32c(type|p1, c0) = c1 with BATCH_START_FLAG, frame 2's to crc32c(type|p2, c1) = c2, and
 * returns c2, the chain value the next write starts from.
 */
export class FrameBuffer {
  private buf: Buffer;
  private used = 0;
  /** Start offsets of the frames, in order. */
  private readonly starts: number[] = [];

  constructor(initialBytes = 2048) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.used;
  }

  get frameCount(): number {
    return this.starts.length;
  }

  append(type: RecordType, payload: Uint8Array): void {
    const length = payload.byteLength;
    assert(length <= MAX_PAYLOAD_BYTES, `wal: record payload of ${length} bytes is too large`);
    const size = frameBytes(length);
    this.reserve(size);
    const at = this.used;
    const buf = this.buf;
    buf.writeUInt32LE(length, at);
    buf.writeUInt32LE(0, at + 4);
    buf[at + 8] = type;
    buf.set(payload, at + HEADER_BYTES);
    buf.fill(0, at + HEADER_BYTES + length, at + size);
    this.starts.push(at);
    this.used = at + size;
  }

  /**
   * Sets every frame's CRC, chained from `prevCrc`, and flags the first frame as the start of a
   * write. Returns the chain value after the last frame. A Crc record is sealed with the chain
   * value it carries (pass its seed as prevCrc) and does not advance the chain.
   */
  seal(prevCrc: number): number {
    let chain = prevCrc;
    const buf = this.buf;
    for (let i = 0; i < this.starts.length; i++) {
      const at = this.starts[i] as number;
      const length = buf.readUInt32LE(at);
      const type = (buf[at + 8] as number) & ~BATCH_START_FLAG;
      buf[at + 8] = i === 0 ? type | BATCH_START_FLAG : type;
      const crc = crc32c(buf.subarray(at + 8, at + HEADER_BYTES + length), chain);
      buf.writeUInt32LE(crc, at + 4);
      if (type !== RecordType.Crc) chain = crc;
    }
    return chain;
  }

  /** The frames as one buffer (a view: valid until the next append). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.used + bytes) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }
}

export interface FrameHeader {
  readonly length: number;
  readonly crc: number;
  readonly type: number;
  readonly batchStart: boolean;
}

/** Reads the header at `offset`, or undefined if fewer than HEADER_BYTES remain. */
export function readHeader(buf: Buffer, offset: number): FrameHeader | undefined {
  if (buf.byteLength - offset < HEADER_BYTES) return undefined;
  const typeByte = buf[offset + 8] as number;
  return {
    length: buf.readUInt32LE(offset),
    crc: buf.readUInt32LE(offset + 4),
    type: typeByte & ~BATCH_START_FLAG,
    batchStart: (typeByte & BATCH_START_FLAG) !== 0,
  };
}

/** The CRC a frame at `offset` should carry given the chain value before it. */
export function frameCrc(buf: Buffer, offset: number, length: number, prevCrc: number): number {
  return crc32c(buf.subarray(offset + 8, offset + HEADER_BYTES + length), prevCrc);
}
