/**
 * Which keys a watcher covers, with etcd's range_end conventions:
 *
 *   key 'a', rangeEnd absent/empty  -> just 'a'
 *   key 'a', rangeEnd 'b'           -> 'a' <= k < 'b'   (a prefix watch is rangeEnd = prefix+1)
 *   key 'a', rangeEnd '\0'          -> 'a' <= k         (from-key)
 *   key '\0', rangeEnd '\0'         -> every key
 */
import { compareBytes, keyString } from '../mvcc/bytes.js';
import { assert } from '../util/index.js';

export interface KeyRange {
  readonly key: Uint8Array;
  /** undefined: the single key; empty array: unbounded above (from-key). */
  readonly end: Uint8Array | undefined;
}

export function toKeyRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyRange {
  assert(key.length > 0, 'a watch key is not empty (checked by the server)');
  if (rangeEnd === undefined || rangeEnd.length === 0) return { key, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key, end: new Uint8Array(0) };
  return { key, end: rangeEnd };
}

export function inKeyRange(r: KeyRange, k: Uint8Array): boolean {
  if (r.end === undefined) return compareBytes(r.key, k) === 0;
  if (compareBytes(k, r.key) < 0) return false;
  return r.end.length === 0 || compareBytes(k, r.end) < 0;
}

/**
 * The prefix p when the range is exactly the keys starting with p ([p, prefixEnd(p)), what a
 * prefix watch asks for), as a latin1 string; undefined for any other range or a single key.
 * prefixEnd(p) is p with its last byte below 0xff incremented and what follows dropped.
 */
export function prefixOf(r: KeyRange): string | undefined {
  const end = r.end;
  if (end === undefined || end.length === 0 || end.length > r.key.length) return undefined;
  const i = end.length - 1;
  // end = key[0..i) + (key[i] + 1), and every key byte after i is 0xff.
  if ((r.key[i] as number) === 0xff || end[i] !== (r.key[i] as number) + 1) return undefined;
  for (let j = 0; j < i; j++) if (end[j] !== r.key[j]) return undefined;
  for (let j = i + 1; j < r.key.length; j++) if (r.key[j] !== 0xff) return undefined;
  return keyString(r.key);
}
