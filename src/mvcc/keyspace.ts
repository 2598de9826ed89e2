/**
 * mvcc's LevelDB keyspace and record encoding. The database is shared with other modules
 * (leases, auth, members), so mvcc owns two one-byte prefixes and nothing else:
 *
 *   'r' (0x72)  revision records, one per change, in revision order
 *   'm' (0x6d)  mvcc metadata: 'm' + name -> big-endian u64
 *
 * A revision record's LevelDB key is self-describing (34 bytes + the user key):
 *
 *   offset  0  'r'
 *           1  main revision   u64 big-endian   } the revision: records sort by (main, sub),
 *           9  sub revision    u64 big-endian   } so an iterator walks history in order
 *          17  kind            u8: 0 put, 1 tombstone (etcd's 't' marker)
 *          18  create revision u64 big-endian   (main revision that created the key's generation)
 *          26  version         u64 big-endian   (for a tombstone: the generation's version count
 *                                                including the tombstone, as etcd's generation.ver)
 *          34  user key bytes  (to the end)
 *
 * and its value is
 *
 *   put:        flags u8 (bit 0: has lease) | [lease i64 big-endian, if bit 0] | value bytes (to the end)
 *   tombstone:  empty
 *
 * Why the key carries create revision, version and user key (etcd keeps them in the value): the
 * key index can be rebuilt from a keys-only iterator, which never copies a value into JS, so
 * reopening a store costs the number of records, not their size. The revision prefix alone
 * orders the records, so the extra fields never change the order. Reads know all these fields
 * from the key index, so they can still build the exact key for a point lookup (getMany).
 */
import { assert } from '../util/index.js';
import { readU64, writeU64 } from './bytes.js';

export const REVISION_PREFIX = 0x72; // 'r'
export const META_PREFIX = 0x6d; // 'm'

const OFFSET_MAIN = 1;
const OFFSET_SUB = 9;
const OFFSET_KIND = 17;
const OFFSET_CREATED = 18;
const OFFSET_VERSION = 26;
/** Where the user key starts in a record key. */
export const RECORD_KEY_HEADER_BYTES = 34;

const KIND_PUT = 0;
const KIND_TOMBSTONE = 1;

const FLAG_LEASE = 0x01;

/** The fields of a revision record's key. */
export interface RecordKey {
  readonly main: number;
  readonly sub: number;
  readonly tombstone: boolean;
  readonly created: number;
  readonly version: number;
  /** The user key as a latin1 string (see bytes.ts). */
  readonly key: string;
}

export function encodeRecordKey(
  main: number,
  sub: number,
  tombstone: boolean,
  created: number,
  version: number,
  key: string,
): Buffer {
  assert(main >= 1 && sub >= 0 && created >= 1 && created <= main && version >= 1, 'bad revision record fields');
  const buf = Buffer.allocUnsafe(RECORD_KEY_HEADER_BYTES + key.length);
  buf[0] = REVISION_PREFIX;
  writeU64(buf, OFFSET_MAIN, main);
  writeU64(buf, OFFSET_SUB, sub);
  buf[OFFSET_KIND] = tombstone ? KIND_TOMBSTONE : KIND_PUT;
  writeU64(buf, OFFSET_CREATED, created);
  writeU64(buf, OFFSET_VERSION, version);
  buf.write(key, RECORD_KEY_HEADER_BYTES, 'latin1');
  return buf;
}

/** Decodes and checks a record key read from the database. */
export function decodeRecordKey(buf: Buffer): RecordKey {
  assert(buf.length > RECORD_KEY_HEADER_BYTES && buf[0] === REVISION_PREFIX, 'not a revision record key');
  const kind = buf[OFFSET_KIND];
  assert(kind === KIND_PUT || kind === KIND_TOMBSTONE, `revision record with unknown kind ${String(kind)}`);
  const rec: RecordKey = {
    main: readU64(buf, OFFSET_MAIN),
    sub: readU64(buf, OFFSET_SUB),
    tombstone: kind === KIND_TOMBSTONE,
    created: readU64(buf, OFFSET_CREATED),
    version: readU64(buf, OFFSET_VERSION),
    key: buf.toString('latin1', RECORD_KEY_HEADER_BYTES),
  };
  assert(rec.main >= 1 && rec.created >= 1 && rec.created <= rec.main && rec.version >= 1, 'corrupt revision record key');
  // The creating put is version 1 and carries its own revision as created; a tombstone closes a
  // generation that holds at least one put, so it counts at least 2.
  assert(rec.tombstone ? rec.version >= 2 : rec.version !== 1 || rec.created === rec.main, 'corrupt revision record: version/created');
  return rec;
}

/** The main revision of a record key, without decoding the rest (compaction, hash). */
export function recordMain(buf: Uint8Array): number {
  return readU64(buf, OFFSET_MAIN);
}

/**
 * The smallest record key with this main revision: every record of an earlier revision sorts
 * below it. `revisionBound(rev + 1)` is the exclusive upper bound of records <= rev.
 */
export function revisionBound(main: number): Buffer {
  const buf = Buffer.alloc(OFFSET_SUB);
  buf[0] = REVISION_PREFIX;
  writeU64(buf, OFFSET_MAIN, main);
  return buf;
}

/** Exclusive upper bound of all revision records. */
export const REVISIONS_END: Buffer = Buffer.from([REVISION_PREFIX + 1]);
/** Inclusive lower bound of all revision records. */
export const REVISIONS_START: Buffer = Buffer.from([REVISION_PREFIX]);

export function encodePutValue(value: Uint8Array, lease: bigint): Buffer {
  const hasLease = lease !== 0n;
  const header = hasLease ? 9 : 1;
  const buf = Buffer.allocUnsafe(header + value.length);
  buf[0] = hasLease ? FLAG_LEASE : 0;
  if (hasLease) buf.writeBigInt64BE(lease, 1);
  buf.set(value, header);
  return buf;
}

export const TOMBSTONE_VALUE: Buffer = Buffer.alloc(0);

/** Decodes and checks a put record's value. The returned value is a view into `buf`. */
export function decodePutValue(buf: Buffer): { value: Buffer; lease: bigint } {
  assert(buf.length >= 1, 'corrupt put record: empty value');
  const flags = buf[0] as number;
  assert((flags & ~FLAG_LEASE) === 0, `corrupt put record: flags ${flags}`);
  if ((flags & FLAG_LEASE) === 0) return { value: buf.subarray(1), lease: 0n };
  assert(buf.length >= 9, 'corrupt put record: truncated lease');
  return { value: buf.subarray(9), lease: buf.readBigInt64BE(1) };
}

/** Meta record names. */
export const META_CONSISTENT_INDEX: Buffer = Buffer.from('mconsistent_index', 'latin1');
export const META_CURRENT_REV: Buffer = Buffer.from('mcurrent_rev', 'latin1');
export const META_SCHEDULED_COMPACT: Buffer = Buffer.from('mscheduled_compact_rev', 'latin1');
export const META_FINISHED_COMPACT: Buffer = Buffer.from('mfinished_compact_rev', 'latin1');

export function encodeMetaU64(n: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  writeU64(buf, 0, n);
  return buf;
}

export function decodeMetaU64(buf: Uint8Array): number {
  assert(buf.length === 8, 'corrupt meta record');
  return readU64(buf, 0);
}
