/**
 * Range: etcd's mvcc rangeKeys plus the server-side RangeRequest rules of etcd's
 * apply (txn/range.go), which decide what clients see:
 *
 * - revision <= 0 reads the view's revision; > the view's revision is FutureRev; below the
 *   compaction revision is Compacted (reading exactly at it is fine).
 * - count is the number of keys in the range at that revision, before limit and before the
 *   min/max revision filters.
 * - With a sort order or any filter, every key in the range is considered, then filtered, sorted
 *   and cut to limit; otherwise only the first limit + 1 keys (in key order) are, so `more` is
 *   known. etcd's sort-order rule is kept exactly: a target other than KEY with order NONE sorts
 *   ASCEND (but over the limited keys only, as etcd does), and KEY with ASCEND is the natural order.
 * - keysOnly drops values; countOnly returns no kvs.
 *
 * Unlike etcd, the filters and every sort but VALUE run on the key index, so only the values
 * returned are read from the database. Ties in a sort keep key order (etcd's sort is unstable,
 * so its order among ties is unspecified).
 */
import { EtcdError } from '../errors.js';
import { AssertionError } from '../util/index.js';
import { compareBytes, compareStrings, keySpan } from './bytes.js';
import type { ReadView } from './store-core.js';
import type { IndexEntry } from './tree-index.js';
import { SortOrder, SortTarget, type KeyValue, type RangeOptions, type RangeResponse } from './types.js';

const NO_VALUE = new Uint8Array(0);

/** The revision a read at `revision` uses, or FutureRev/Compacted (etcd's rangeKeys checks). */
export function resolveRevision(view: ReadView, revision: number): number {
  if (revision > view.rev) throw new EtcdError('FutureRev');
  const atRev = revision <= 0 ? view.rev : revision;
  if (atRev < view.compactRev()) throw new EtcdError('Compacted');
  return atRev;
}

export async function range(
  view: ReadView,
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  opts: RangeOptions = {},
): Promise<RangeResponse> {
  const atRev = resolveRevision(view, opts.revision ?? 0);
  const span = keySpan(key, rangeEnd);
  if (opts.countOnly === true) return { kvs: [], more: false, count: view.index.count(span, atRev), rev: view.rev };

  const limit = opts.limit ?? 0;
  const sortOrder = opts.sortOrder ?? SortOrder.NONE;
  const sortTarget = opts.sortTarget ?? SortTarget.KEY;
  const minMod = opts.minModRevision ?? 0;
  const maxMod = opts.maxModRevision ?? 0;
  const minCreate = opts.minCreateRevision ?? 0;
  const maxCreate = opts.maxCreateRevision ?? 0;
  const filtered = minMod !== 0 || maxMod !== 0 || minCreate !== 0 || maxCreate !== 0;
  const considered = sortOrder !== SortOrder.NONE || filtered ? 0 : limit > 0 ? limit + 1 : 0;

  const { entries: all, total } = view.index.revisions(span, atRev, considered);
  let entries = all;
  if (filtered) {
    entries = all.filter(
      ({ rev }) =>
        (maxMod === 0 || rev.main <= maxMod) &&
        (minMod === 0 || rev.main >= minMod) &&
        (maxCreate === 0 || rev.created <= maxCreate) &&
        (minCreate === 0 || rev.created >= minCreate),
    );
  }

  let order = sortOrder;
  if (sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  else if (sortTarget === SortTarget.KEY && order === SortOrder.ASCEND) order = SortOrder.NONE;
  const sign = order === SortOrder.DESCEND ? -1 : 1;

  let kvs: KeyValue[];
  let more = false;
  if (order !== SortOrder.NONE && sortTarget === SortTarget.VALUE) {
    // Sorting by value needs every considered value; the rest sort on the index.
    kvs = await view.fetch(entries, atRev);
    kvs.sort((a, b) => sign * compareBytes(a.value, b.value));
    if (limit > 0 && kvs.length > limit) {
      kvs = kvs.slice(0, limit);
      more = true;
    }
  } else {
    if (order !== SortOrder.NONE) {
      const by = entryComparator(sortTarget);
      entries = entries.slice().sort((a, b) => sign * by(a, b));
    }
    if (limit > 0 && entries.length > limit) {
      entries = entries.slice(0, limit);
      more = true;
    }
    kvs = await view.fetch(entries, atRev);
  }
  if (opts.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: NO_VALUE }));
  return { kvs, more, count: total, rev: view.rev };
}

function entryComparator(target: SortTarget): (a: IndexEntry, b: IndexEntry) => number {
  switch (target) {
    case SortTarget.KEY:
      return (a, b) => compareStrings(a.key, b.key);
    case SortTarget.VERSION:
      return (a, b) => a.rev.version - b.rev.version;
    case SortTarget.CREATE:
      return (a, b) => a.rev.created - b.rev.created;
    case SortTarget.MOD:
      return (a, b) => a.rev.main - b.rev.main;
    case SortTarget.VALUE:
      throw new AssertionError('values are sorted once read, not on the index');
  }
}
