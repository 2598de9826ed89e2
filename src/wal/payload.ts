/**
 * Record payloads: what each record type carries, encoded with msgpackr. Decoding checks the
 * shape strictly: a payload that passed its CRC but does not decode is a writer bug or a forged
 * record, and either way must not reach raft.
 *
 * Payloads are arrays, not objects, because with `useRecords: false` an object repeats its keys
 * in every record. The layouts:
 *
 *   Crc             seed                                  (u32)
 *   Metadata        bytes
 *   Entries         [firstIndex, term0, type0, data0, term1, type1, data1, ...]
 *                   (entries are contiguous, so one index is enough)
 *   HardState       [term, vote, commit]                  (vote is a bigint, msgpack int64/uint64)
 *   SnapshotMarker  [index, term]
 */
import { Packr } from 'msgpackr';
import { assert } from '../util/assert.js';
import type { Entry, HardState, SnapshotMarker } from './types.js';

// useBigIntExtension: bigints wider than 64 bits (none today, but metadata and snapshot
// configurations are opaque) round-trip instead of throwing; 64-bit ones stay plain int64/uint64
// and always decode as bigint.
export const packr = new Packr({ useRecords: false, useBigIntExtension: true });

/** A payload that passed its CRC but has the wrong shape. */
export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function unpack(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new PayloadError(`undecodable payload: ${(err as Error).message}`);
  }
}

/** A plain Uint8Array view (msgpackr hands out Buffer views into the segment it read). */
function asBytes(v: Buffer | Uint8Array): Uint8Array {
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function encodeCrc(seed: number): Uint8Array {
  assert(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff, 'wal: crc seed must be a u32');
  return packr.pack(seed);
}

export function decodeCrc(bytes: Uint8Array): number {
  const v = unpack(bytes);
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new PayloadError('crc seed is not a u32');
  return v;
}

export function encodeMetadata(metadata: Uint8Array): Uint8Array {
  return packr.pack(metadata);
}

export function decodeMetadata(bytes: Uint8Array): Uint8Array {
  const v = unpack(bytes);
  if (!(v instanceof Uint8Array)) throw new PayloadError('metadata is not bytes');
  return asBytes(v);
}

/** Checks a batch before it is written: what raft must never hand us. */
export function checkEntries(entries: readonly Entry[]): void {
  let prev: Entry | undefined;
  for (const e of entries) {
    assert(isIndex(e.index) && e.index >= 1, `wal: entry index ${e.index} is not a positive safe integer`);
    assert(isIndex(e.term), `wal: entry term ${e.term} is not a safe integer`);
    assert(Number.isInteger(e.type) && e.type >= 0 && e.type <= 255, `wal: entry type ${e.type} is not a small integer`);
    assert(e.data instanceof Uint8Array, 'wal: entry data must be a Uint8Array');
    if (prev !== undefined) {
      assert(e.index === prev.index + 1, `wal: entries not contiguous (${prev.index} then ${e.index})`);
      assert(e.term >= prev.term, `wal: entry terms go back (${prev.term} then ${e.term} at ${e.index})`);
    }
    prev = e;
  }
}

export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const first = entries[0];
  assert(first !== undefined, 'wal: empty entries record');
  const flat: unknown[] = new Array(1 + 3 * entries.length);
  flat[0] = first.index;
  let i = 1;
  for (const e of entries) {
    flat[i++] = e.term;
    flat[i++] = e.type;
    flat[i++] = e.data;
  }
  return packr.pack(flat);
}

export function decodeEntries(bytes: Uint8Array): Entry[] {
  const v = unpack(bytes);
  if (!Array.isArray(v) || v.length < 4 || (v.length - 1) % 3 !== 0) throw new PayloadError('entries record has the wrong shape');
  const firstIndex: unknown = v[0];
  if (!isIndex(firstIndex) || firstIndex < 1) throw new PayloadError('entries record has a bad first index');
  const count = (v.length - 1) / 3;
  if (!Number.isSafeInteger(firstIndex + count)) throw new PayloadError('entries record runs past 2^53');
  const out: Entry[] = new Array(count);
  let prevTerm = 0;
  for (let k = 0; k < count; k++) {
    const term: unknown = v[1 + 3 * k];
    const type: unknown = v[2 + 3 * k];
    const data: unknown = v[3 + 3 * k];
    if (!isIndex(term) || term < prevTerm) throw new PayloadError(`entry ${firstIndex + k} has a bad term`);
    if (!(typeof type === 'number' && Number.isInteger(type) && type >= 0 && type <= 255)) {
      throw new PayloadError(`entry ${firstIndex + k} has a bad type`);
    }
    if (!(data instanceof Uint8Array)) throw new PayloadError(`entry ${firstIndex + k} data is not bytes`);
    out[k] = { term, index: firstIndex + k, type, data: asBytes(data) };
    prevTerm = term;
  }
  return out;
}

export function checkHardState(hs: HardState): void {
  assert(isIndex(hs.term) && isIndex(hs.commit), 'wal: hard state term/commit must be safe integers');
  assert(typeof hs.vote === 'bigint' && hs.vote >= 0n && hs.vote < 1n << 64n, 'wal: hard state vote must be a u64 bigint');
}

export function encodeHardState(hs: HardState): Uint8Array {
  return packr.pack([hs.term, hs.vote, hs.commit]);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const v = unpack(bytes);
  if (!Array.isArray(v) || v.length !== 3) throw new PayloadError('hard state record has the wrong shape');
  const [term, vote, commit] = v as unknown[];
  if (!isIndex(term) || !isIndex(commit)) throw new PayloadError('hard state term/commit are not safe integers');
  // msgpackr decodes int64/uint64 as bigint; a small vote written by a buggy writer as a plain
  // number would come back as a number, so accept only bigint.
  if (typeof vote !== 'bigint' || vote < 0n) throw new PayloadError('hard state vote is not a u64');
  return { term, vote, commit };
}

export function checkMarker(m: SnapshotMarker): void {
  assert(isIndex(m.index) && isIndex(m.term), 'wal: snapshot marker index/term must be safe integers');
}

export function encodeMarker(m: SnapshotMarker): Uint8Array {
  return packr.pack([m.index, m.term]);
}

export function decodeMarker(bytes: Uint8Array): SnapshotMarker {
  const v = unpack(bytes);
  if (!Array.isArray(v) || v.length !== 2) throw new PayloadError('snapshot marker has the wrong shape');
  const [index, term] = v as unknown[];
  if (!isIndex(index) || !isIndex(term)) throw new PayloadError('snapshot marker index/term are not safe integers');
  return { index, term };
}
