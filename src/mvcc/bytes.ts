/**
 * Byte helpers for keys and the on-disk encoding.
 *
 * In memory a key is a latin1 string: one char per byte (0..255). JavaScript compares strings by
 * UTF-16 code unit, and for latin1 strings each code unit is the byte, so `<` on these strings is
 * exactly etcd's bytes.Compare order. V8 stores such strings one byte per char, so they are as
 * small as the bytes, and they are cheap Map/BTree keys. (TextDecoder('latin1') would be wrong:
 * it is windows-1252 and remaps 0x80..0x9f; Buffer's 'latin1' is the identity.)
 */
import { assert } from '../util/index.js';

/** Bytes -> latin1 key string, without copying the bytes. */
export function keyString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Latin1 key string -> a new Buffer with its bytes. */
export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The keys a request names, from etcd's (key, rangeEnd) convention:
 * - rangeEnd absent or empty: the single key;
 * - rangeEnd one zero byte ("\0"): every key >= key (etcd's mkGteRange; key "\0" too: all keys);
 * - otherwise [key, rangeEnd), which is empty when rangeEnd <= key.
 */
export type KeySpan =
  | { readonly single: true; readonly key: string }
  | { readonly single: false; readonly start: string; /** null: unbounded */ readonly end: string | null };

export function keySpan(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeySpan {
  const start = keyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { single: true, key: start };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { single: false, start, end: null };
  return { single: false, start, end: keyString(rangeEnd) };
}

/** Whether a key string lies in the span. */
export function spanContains(span: KeySpan, key: string): boolean {
  if (span.single) return key === span.key;
  return key >= span.start && (span.end === null || key < span.end);
}

const TWO_32 = 0x1_0000_0000;

/** Writes a non-negative safe integer as a big-endian u64 at `offset`. */
export function writeU64(buf: Uint8Array, offset: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, `u64 out of range: ${n}`);
  const hi = Math.floor(n / TWO_32);
  const lo = n >>> 0;
  buf[offset] = hi >>> 24;
  buf[offset + 1] = (hi >>> 16) & 0xff;
  buf[offset + 2] = (hi >>> 8) & 0xff;
  buf[offset + 3] = hi & 0xff;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = (lo >>> 16) & 0xff;
  buf[offset + 6] = (lo >>> 8) & 0xff;
  buf[offset + 7] = lo & 0xff;
}

/** Reads a big-endian u64 at `offset`, asserting it is a safe integer (data is checked after reading). */
export function readU64(buf: Uint8Array, offset: number): number {
  assert(offset + 8 <= buf.length, 'u64 past the end of the buffer');
  const hi = readU32(buf, offset);
  assert(hi < 0x20_0000, 'u64 is not a safe integer');
  return hi * TWO_32 + readU32(buf, offset + 4);
}

function readU32(buf: Uint8Array, offset: number): number {
  // In bounds (checked by the caller), so the elements are numbers.
  const b0 = buf[offset] as number;
  const b1 = buf[offset + 1] as number;
  const b2 = buf[offset + 2] as number;
  const b3 = buf[offset + 3] as number;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}
