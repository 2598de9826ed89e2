/**
 * An in-memory WatchHistory plus a tiny writer that makes etcd-shaped events (MvccStore has no
 * public way to read events by revision, so the hub is tested against this).
 */
import { EtcdError } from '../../src/errors.js';
import { EventType, type Event, type KeyValue } from '../../src/mvcc/index.js';
import type { HistoryBatch, WatchHistory } from '../../src/watch/index.js';

const enc = new TextEncoder();
export const b = (s: string): Uint8Array => enc.encode(s);
export const s = (u: Uint8Array): string => new TextDecoder().decode(u);

export class FakeHistory implements WatchHistory {
  compactRev = -1;
  currentRev = 1;
  /** Events by revision (revision 1 is the empty store). */
  private readonly revs = new Map<number, Event[]>();
  private readonly live = new Map<string, KeyValue>();
  reads = 0;

  /** Applies one revision of puts ('k=v') and deletes ('-k'); returns its events (with prevKv). */
  apply(ops: readonly string[]): { events: Event[]; rev: number } {
    const rev = this.currentRev + 1;
    const events: Event[] = [];
    for (const op of ops) {
      if (op.startsWith('-')) {
        const key = op.slice(1);
        const prev = this.live.get(key);
        if (prev === undefined) continue;
        this.live.delete(key);
        events.push({
          type: EventType.DELETE,
          kv: { key: b(key), createRevision: 0, modRevision: rev, version: 0, value: new Uint8Array(0), lease: 0n },
          prevKv: prev,
        });
      } else {
        const [key = '', value = ''] = op.split('=');
        const prev = this.live.get(key);
        const kv: KeyValue = {
          key: b(key),
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
          value: b(value),
          lease: 0n,
        };
        this.live.set(key, kv);
        events.push(prev === undefined ? { type: EventType.PUT, kv } : { type: EventType.PUT, kv, prevKv: prev });
      }
    }
    if (events.length === 0) return { events, rev: this.currentRev };
    this.currentRev = rev;
    this.revs.set(rev, events);
    return { events, rev };
  }

  compact(rev: number): void {
    this.compactRev = rev;
    for (const r of [...this.revs.keys()]) if (r < rev) this.revs.delete(r);
  }

  eventsBetween(fromRev: number, toRev: number, limit: number): Promise<HistoryBatch> {
    this.reads++;
    if (fromRev < this.compactRev) return Promise.reject(new EtcdError('Compacted'));
    const events: Event[] = [];
    let r = fromRev;
    for (; r <= toRev; r++) {
      events.push(...(this.revs.get(r) ?? []));
      if (events.length >= limit) {
        r++;
        break;
      }
    }
    return Promise.resolve({ events, nextRev: r });
  }
}
