/**
 * A set of watchers indexed for notify: single-key watchers by key (one map lookup per event),
 * prefix watchers (the common range: [p, prefixEnd(p))) by prefix (one lookup per prefix length
 * in use, at most the key's length), and other ranges in a list scanned per event. etcd uses an
 * interval tree for all ranges; the prefix index serves what clients ask for (service discovery
 * watches a directory), and the list stays for the rare arbitrary range.
 *
 * Example: watchers on 'a/' (prefix) and 'a/b' (key); an event on 'a/b' finds 'a/b' in byKey and,
 * trying the prefix lengths in use (2), 'a/' in byPrefix.
 */
import { keyString } from '../mvcc/bytes.js';
import { prefixOf } from './key-range.js';
import type { Watcher } from './watcher.js';
import type { Event } from '../mvcc/index.js';

export class WatcherGroup {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly byPrefix = new Map<string, Set<Watcher>>();
  /** Prefix length -> how many prefixes of that length are in byPrefix. */
  private readonly prefixLengths = new Map<number, number>();
  private readonly ranges = new Set<Watcher>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: Watcher): void {
    const prefix = prefixOf(w.range);
    if (prefix !== undefined) {
      if (addTo(this.byPrefix, prefix, w)) this.prefixLengths.set(prefix.length, (this.prefixLengths.get(prefix.length) ?? 0) + 1);
    } else if (w.range.end !== undefined) {
      this.ranges.add(w);
    } else {
      addTo(this.byKey, keyString(w.range.key), w);
    }
    this.count++;
  }

  delete(w: Watcher): boolean {
    let removed: boolean;
    const prefix = prefixOf(w.range);
    if (prefix !== undefined) {
      const r = deleteFrom(this.byPrefix, prefix, w);
      removed = r.removed;
      if (r.emptied) {
        const n = (this.prefixLengths.get(prefix.length) ?? 1) - 1;
        if (n === 0) this.prefixLengths.delete(prefix.length);
        else this.prefixLengths.set(prefix.length, n);
      }
    } else if (w.range.end !== undefined) {
      removed = this.ranges.delete(w);
    } else {
      removed = deleteFrom(this.byKey, keyString(w.range.key), w).removed;
    }
    if (removed) this.count--;
    return removed;
  }

  /** Every watcher, in no particular order. */
  *all(): IterableIterator<Watcher> {
    for (const set of this.byKey.values()) yield* set;
    for (const set of this.byPrefix.values()) yield* set;
    yield* this.ranges;
  }

  /** For each watcher some event could concern (key-wise), the events it matches, in order. */
  matching(events: readonly Event[]): Map<Watcher, Event[]> {
    const out = new Map<Watcher, Event[]>();
    const push = (w: Watcher, ev: Event): void => {
      if (!w.matches(ev)) return;
      const list = out.get(w);
      if (list === undefined) out.set(w, [ev]);
      else list.push(ev);
    };
    for (const ev of events) {
      const k = keyString(ev.kv.key);
      const set = this.byKey.get(k);
      if (set !== undefined) for (const w of set) push(w, ev);
      for (const len of this.prefixLengths.keys()) {
        if (len > k.length) continue;
        const ps = this.byPrefix.get(k.slice(0, len));
        if (ps !== undefined) for (const w of ps) push(w, ev);
      }
      for (const w of this.ranges) push(w, ev);
    }
    return out;
  }
}

/** Adds w to the set under k; returns whether the set is new. */
function addTo(map: Map<string, Set<Watcher>>, k: string, w: Watcher): boolean {
  const set = map.get(k);
  if (set !== undefined) {
    set.add(w);
    return false;
  }
  map.set(k, new Set([w]));
  return true;
}

function deleteFrom(map: Map<string, Set<Watcher>>, k: string, w: Watcher): { removed: boolean; emptied: boolean } {
  const set = map.get(k);
  const removed = set?.delete(w) ?? false;
  const emptied = set !== undefined && set.size === 0;
  if (emptied) map.delete(k);
  return { removed, emptied };
}
