/**
 * Keys as etcd's benchmark makes them: a zeroed buffer of --key-size bytes with the key number
 * written at its start by Go's binary.PutVarint (zig-zag, then little-endian base-128), so the
 * same flags put the same bytes on the wire against either server.
 */
import { randomFillSync } from 'node:crypto';

/** Writes n (a non-negative safe integer) as Go's binary.PutVarint into buf at 0; returns the length. */
export function putVarint(buf: Uint8Array, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`putVarint: ${n} is not a non-negative safe integer`);
  // Zig-zag for n >= 0 is 2n; arithmetic, not bit operators, past 2^31.
  let u = 2 * n;
  let i = 0;
  while (u >= 0x80) {
    if (i >= buf.length) throw new Error(`putVarint: ${n} does not fit in ${buf.length} bytes`);
    buf[i++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  if (i >= buf.length) throw new Error(`putVarint: ${n} does not fit in ${buf.length} bytes`);
  buf[i++] = u;
  return i;
}

/** A key of `size` bytes holding key number n. */
export function numberedKey(size: number, n: number): Buffer {
  const k = Buffer.alloc(size);
  putVarint(k, n);
  return k;
}

export function randomBytes(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  randomFillSync(b);
  return b;
}

/** A uniform integer in [0, n). */
export const randInt = (n: number): number => Math.floor(Math.random() * n);
