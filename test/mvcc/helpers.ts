import { MemoryLevel } from 'memory-level';
import { MvccStore, type KeyValue, type MvccStoreOptions, type RangeResponse } from '../../src/mvcc/index.js';
import { REVISIONS_END, REVISIONS_START, decodeRecordKey } from '../../src/mvcc/keyspace.js';

/** Bytes of a latin1 string. */
export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export const str = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** A KeyValue in one line: key=value c<create> m<mod> v<version> [l<lease>]. */
export function show(kv: KeyValue): string {
  return `${str(kv.key)}=${str(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}${kv.lease === 0n ? '' : ` l${kv.lease}`}`;
}

export const keys = (r: RangeResponse): string[] => r.kvs.map((kv) => str(kv.key));

export async function open(db: MemoryLevel = new MemoryLevel(), options: MvccStoreOptions = {}): Promise<{ db: MemoryLevel; store: MvccStore }> {
  return { db, store: await MvccStore.open(db, options) };
}

/** Every revision record in the database, as `main.sub key` (+ ` t` for tombstones). */
export async function records(db: MemoryLevel): Promise<string[]> {
  const ks = await db.keys<Buffer>({ gte: REVISIONS_START, lt: REVISIONS_END, keyEncoding: 'buffer' }).all();
  return ks.map((k) => {
    const r = decodeRecordKey(k);
    return `${r.main}.${r.sub} ${r.key}${r.tombstone ? ' t' : ''}`;
  });
}

/** Applies puts of key=value, one revision each, with consecutive consistent indexes. */
export async function putAll(store: MvccStore, ...pairs: [string, string][]): Promise<void> {
  for (const [k, v] of pairs) await store.put({ key: b(k), value: b(v) }, store.consistentIndex() + 1);
}

export async function del(store: MvccStore, key: string, rangeEnd?: string): Promise<number> {
  const r = await store.deleteRange(
    rangeEnd === undefined ? { key: b(key) } : { key: b(key), rangeEnd: b(rangeEnd) },
    store.consistentIndex() + 1,
  );
  return r.deleted;
}

/** The error code a promise rejects with. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return (e as { code?: string; name: string }).code ?? (e as Error).name;
  }
  return 'no error';
}
