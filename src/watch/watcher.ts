/**
 * One watcher (etcd's mvcc `watcher`). It lives in exactly one of the hub's places: synced,
 * unsynced or victims (or none, once canceled).
 */
import { EventType, type Event } from '../mvcc/index.js';
import { inKeyRange, type KeyRange } from './key-range.js';
import type { WatchSend } from './types.js';

export type WatcherState = 'synced' | 'unsynced' | 'victim' | 'canceled';

export class Watcher {
  /**
   * The next revision this watcher has not yet been given. Invariant: every matching event with
   * revision < minRev has been taken by `send`, each exactly once, in order; none at or after.
   * While synced it may lag the hub's revision (see hub.ts): nothing it matched came meanwhile.
   */
  minRev: number;
  state: WatcherState = 'unsynced';
  /** Only for a victim: the response notify could not send, covering revisions up to pendingRev. */
  pending: { readonly events: readonly Event[]; readonly rev: number } | undefined = undefined;

  constructor(
    readonly id: number,
    readonly streamId: number,
    readonly range: KeyRange,
    startRev: number,
    readonly prevKv: boolean,
    private readonly noPut: boolean,
    private readonly noDelete: boolean,
    readonly send: WatchSend,
  ) {
    this.minRev = startRev;
  }

  /** Whether the event's key is watched and no filter drops it (revision not considered). */
  matches(ev: Event): boolean {
    if (ev.type === EventType.PUT ? this.noPut : this.noDelete) return false;
    return inKeyRange(this.range, ev.kv.key);
  }

  /** The event as this watcher sends it: prevKv only when asked for. */
  shape(ev: Event): Event {
    if (this.prevKv || ev.prevKv === undefined) return ev;
    return { type: ev.type, kv: ev.kv };
  }
}
