/**
 * A set of watchers indexed for notify: single-key watchers by key (one map lookup per event),
 * range watchers in a list scanned per event. etcd uses an interval tree for the ranges; the
 * list is the simple version, fine while range watchers are few.
 */
import { keyString } from './key-range.js';
import type { Watcher } from './watcher.js';
import type { Event } from '../mvcc/index.js';

export class WatcherGroup {
  private readonly byKey = new Map<string, Set<Watcher>>();
  private readonly ranges = new Set<Watcher>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(w: Watcher): void {
    if (w.range.end !== undefined) {
      this.ranges.add(w);
    } else {
      const k = keyString(w.range.key);
      let set = this.byKey.get(k);
      if (set === undefined) this.byKey.set(k, (set = new Set()));
      set.add(w);
    }
    this.count++;
  }

  delete(w: Watcher): boolean {
    let removed: boolean;
    if (w.range.end !== undefined) {
      removed = this.ranges.delete(w);
    } else {
      const k = keyString(w.range.key);
      const set = this.byKey.get(k);
      removed = set?.delete(w) ?? false;
      if (set !== undefined && set.size === 0) this.byKey.delete(k);
    }
    if (removed) this.count--;
    return removed;
  }

  /** Every watcher, in no particular order. */
  *all(): IterableIterator<Watcher> {
    for (const set of this.byKey.values()) yield* set;
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
      const set = this.byKey.get(keyString(ev.kv.key));
      if (set !== undefined) for (const w of set) push(w, ev);
      for (const w of this.ranges) push(w, ev);
    }
    return out;
  }
}
