import { describe, expect, it } from 'vitest';
import { compareBytes, keyBytes, keySpan, keyString, readU64, spanContains, writeU64 } from '../../src/mvcc/bytes.js';
import {
  decodeMetaU64,
  decodePutValue,
  decodeRecordKey,
  encodeMetaU64,
  encodePutValue,
  encodeRecordKey,
  revisionBound,
} from '../../src/mvcc/keyspace.js';
import { AssertionError } from '../../src/util/index.js';

describe('mvcc bytes', () => {
  it('latin1 key strings order like the bytes', () => {
    const keys = [[0x00], [0x01, 0xff], [0x61], [0x61, 0x00], [0x80], [0xc3, 0xa9], [0xff]].map((k) => Buffer.from(k));
    const shuffled = [keys[3], keys[0], keys[6], keys[2], keys[5], keys[1], keys[4]] as Buffer[];
    const byString = shuffled.map(keyString).sort();
    expect(byString.map((s) => keyBytes(s))).toEqual(keys);
    expect([...shuffled].sort(compareBytes)).toEqual(keys);
    // Bytes 0x80..0x9f survive (windows-1252 would remap them).
    expect(keyBytes(keyString(Buffer.from([0x80, 0x9f])))).toEqual(Buffer.from([0x80, 0x9f]));
  });

  it('keySpan follows etcd: single key, [key, end), from-key, all keys', () => {
    const b = (s: string): Buffer => Buffer.from(s, 'latin1');
    expect(keySpan(b('a'), undefined)).toEqual({ single: true, key: 'a' });
    expect(keySpan(b('a'), b(''))).toEqual({ single: true, key: 'a' });
    expect(keySpan(b('a'), b('\0'))).toEqual({ single: false, start: 'a', end: null });
    expect(keySpan(b('\0'), b('\0'))).toEqual({ single: false, start: '\0', end: null });
    const r = keySpan(b('a'), b('c'));
    expect(['a', 'b', 'bzz', 'c', 'c\0'].map((k) => spanContains(r, k))).toEqual([true, true, true, false, false]);
  });

  it('u64 round-trips safe integers big-endian and refuses others', () => {
    const buf = new Uint8Array(8);
    for (const n of [0, 1, 255, 256, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      writeU64(buf, 0, n);
      expect(readU64(buf, 0)).toBe(n);
    }
    writeU64(buf, 0, 0x0102030405);
    expect([...buf]).toEqual([0, 0, 0, 1, 2, 3, 4, 5]);
    expect(() => writeU64(buf, 0, -1)).toThrow(AssertionError);
    expect(() => writeU64(buf, 0, 2 ** 53)).toThrow(AssertionError);
    expect(() => readU64(new Uint8Array(8).fill(0xff), 0)).toThrow(AssertionError);
  });
});

describe('mvcc keyspace', () => {
  it('record keys round-trip and sort by revision whatever the key', () => {
    const a = encodeRecordKey(2, 5, false, 1, 2, 'zzz');
    const b = encodeRecordKey(10, 0, true, 3, 4, 'a');
    const c = encodeRecordKey(10, 1, false, 10, 1, '\xff\x00');
    expect([c, a, b].sort(Buffer.compare)).toEqual([a, b, c]);
    expect(decodeRecordKey(a)).toEqual({ main: 2, sub: 5, tombstone: false, created: 1, version: 2, key: 'zzz' });
    expect(decodeRecordKey(b)).toEqual({ main: 10, sub: 0, tombstone: true, created: 3, version: 4, key: 'a' });
    expect(decodeRecordKey(c).key).toBe('\xff\x00');
    expect(Buffer.compare(revisionBound(10), b)).toBeLessThan(0);
    expect(Buffer.compare(revisionBound(11), c)).toBeGreaterThan(0);
  });

  it('decoding checks the data read', () => {
    const k = encodeRecordKey(2, 0, false, 2, 1, 'k');
    const badKind = Buffer.from(k);
    badKind[17] = 7;
    expect(() => decodeRecordKey(badKind)).toThrow(AssertionError);
    const badCreated = encodeRecordKey(5, 0, false, 5, 3, 'k');
    badCreated[18 + 7] = 6; // created 6 > main 5
    expect(() => decodeRecordKey(badCreated)).toThrow(AssertionError);
    expect(() => decodeRecordKey(Buffer.from('m_not_a_record_key_at_all_________x'))).toThrow(AssertionError);
    expect(() => decodePutValue(Buffer.from([0x02, 1]))).toThrow(AssertionError);
    expect(() => decodePutValue(Buffer.from([0x01, 1, 2]))).toThrow(AssertionError);
    expect(() => decodeMetaU64(Buffer.from([1, 2, 3]))).toThrow(AssertionError);
  });

  it('put values carry the lease only when there is one', () => {
    const plain = encodePutValue(Buffer.from('v'), 0n);
    expect(plain.length).toBe(2);
    expect(decodePutValue(plain)).toEqual({ value: Buffer.from('v'), lease: 0n });
    const leased = encodePutValue(Buffer.from(''), 0x7fff_ffff_ffff_fff0n);
    expect(leased.length).toBe(9);
    expect(decodePutValue(leased)).toEqual({ value: Buffer.alloc(0), lease: 0x7fff_ffff_ffff_fff0n });
    expect(decodePutValue(encodePutValue(Buffer.from('x'), -5n)).lease).toBe(-5n);
    expect(decodeMetaU64(encodeMetaU64(123456789012))).toBe(123456789012);
  });
});
