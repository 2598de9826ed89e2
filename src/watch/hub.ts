/**
 * WatchHub: etcd's watchableStore (server/storage/mvcc/watchable_store.go) without goroutines.
 * Watchers sit in one of three places:
 *
 *   synced    caught up: every matching event up to the current revision was given. notify()
 *             feeds them directly, one response per watcher per call, touching only the
 *             watchers the events concern, so minRev may lag: for a synced watcher the next
 *             revision to give is max(minRev, current revision + 1) (a future start keeps its).
 *   unsynced  minRev <= current revision: syncOnce() reads history from the WatchHistory in
 *             bounded batches of whole revisions and moves each caught-up watcher to synced.
 *   victims   notify() could not send (the stream's buffer was full); the unsent response is
 *             kept and offered again by retryVictims() (also run by syncOnce()). Once it is
 *             taken, the watcher goes to unsynced if revisions passed meanwhile, else synced.
 *
 * notify() never waits and never drops: a full buffer only changes the watcher's place. The
 * server calls notify(events, rev) after each applied revision, and syncOnce() repeatedly
 * (e.g. every 100ms, or while it returns true) from its own scheduler: src/watch has no timers.
 *
 * Example (current revision 10): watch 'a' from 5 -> unsynced, minRev 5. notify(rev 11) skips it.
 * syncOnce() reads [5, 11], sends the 'a' events of 5..11, minRev = 12 = current + 1 -> synced.
 * Buffer full at notify(rev 12) -> victim with pending rev 12. notify(rev 13) skips it.
 * retryVictims(): the pending response is taken, minRev = 13 <= 13 -> unsynced; syncOnce() sends 13.
 */
import { EtcdError } from '../errors.js';
import type { Event } from '../mvcc/index.js';
import { assert } from '../util/index.js';
import { toKeyRange } from './key-range.js';
import { FilterType, type WatchHistory, type WatchRequest, type WatchResponse, type WatchSend } from './types.js';
import { Watcher } from './watcher.js';
import { WatcherGroup } from './watcher-group.js';

export interface WatchHubOptions {
  readonly history: WatchHistory;
  /** Events read from history per syncOnce() (whole revisions, so may be exceeded by one). Default 1,000. */
  readonly maxEventsPerSync?: number;
  /** Unsynced watchers served per syncOnce() (etcd's maxWatchersPerSync). Default 512. */
  readonly maxWatchersPerSync?: number;
}

/** etcd's text for a client-chosen id that is already used on the stream. */
export const DUPLICATE_WATCH_ID = 'mvcc: duplicate watch ID provided on the WatchStream';

export class WatchHub {
  private readonly history: WatchHistory;
  private readonly maxEventsPerSync: number;
  private readonly maxWatchersPerSync: number;
  /** The last revision passed to notify (or the history's at construction). */
  private rev: number;
  private readonly synced = new WatcherGroup();
  /** Insertion-ordered, so syncOnce serves the oldest first. */
  private readonly unsynced = new Set<Watcher>();
  private readonly victims = new Set<Watcher>();
  private nextStreamId = 0;
  /** syncOnce awaits history; a second one at the same time would race on unsynced minRevs. */
  private syncing = false;

  constructor(options: WatchHubOptions) {
    this.history = options.history;
    this.maxEventsPerSync = options.maxEventsPerSync ?? 1000;
    this.maxWatchersPerSync = options.maxWatchersPerSync ?? 512;
    assert(this.maxEventsPerSync >= 1 && this.maxWatchersPerSync >= 1, 'sync bounds must be positive');
    this.rev = options.history.currentRev;
  }

  get currentRev(): number {
    return this.rev;
  }

  /** Counts for tests and metrics (etcd's watcher gauges). */
  stats(): { synced: number; unsynced: number; victims: number } {
    return { synced: this.synced.size, unsynced: this.unsynced.size, victims: this.victims.size };
  }

  /** Whether syncOnce()/retryVictims() still have work. */
  get pending(): boolean {
    return this.unsynced.size > 0 || this.victims.size > 0;
  }

  /** A new stream (one gRPC Watch call): its watchers share `send`. */
  newStream(send: WatchSend): WatchStream {
    return new WatchStream(this, this.nextStreamId++, send);
  }

  /** @internal Used by WatchStream. */
  add(w: Watcher): void {
    // etcd: start 0 or after the current revision -> synced, else unsynced.
    // etcd: 0 means "from the next revision"; a negative start is refused as compacted below.
    if (w.minRev === 0) w.minRev = this.rev + 1;
    if (w.minRev > this.rev) {
      w.state = 'synced';
      this.synced.add(w);
    } else {
      w.state = 'unsynced';
      this.unsynced.add(w);
    }
  }

  /** @internal Used by WatchStream. Returns whether the watcher was live. */
  remove(w: Watcher): boolean {
    const was = w.state;
    w.state = 'canceled';
    w.pending = undefined;
    switch (was) {
      case 'synced':
        return this.synced.delete(w);
      case 'unsynced':
        return this.unsynced.delete(w);
      case 'victim':
        return this.victims.delete(w);
      case 'canceled':
        return false;
    }
  }

  /**
   * The events of revisions (currentRev, rev], in order, just applied. Feeds synced watchers;
   * never waits. Revisions without events are allowed (rev moves on).
   */
  notify(events: readonly Event[], rev: number): void {
    assert(Number.isSafeInteger(rev) && rev > this.rev, `notify went back: ${rev} after ${this.rev}`);
    let last = this.rev;
    for (const ev of events) {
      const r = ev.kv.modRevision;
      assert(r > this.rev && r <= rev && r >= last, 'notify events out of order or outside (currentRev, rev]');
      last = r;
    }
    this.rev = rev;
    // Only the watchers the events concern: with many synced watchers, a revision touches few.
    // The others keep a stale minRev (see the header).
    for (const [w, all] of this.synced.matching(events)) {
      // A future-start watcher keeps its minRev until history reaches it.
      const evs = all.filter((ev) => ev.kv.modRevision >= w.minRev);
      if (evs.length === 0) continue;
      const shaped = evs.map((ev) => w.shape(ev));
      if (w.send({ watchId: w.id, events: shaped, revision: rev })) {
        w.minRev = rev + 1;
      } else {
        this.synced.delete(w);
        w.state = 'victim';
        w.pending = { events: shaped, rev };
        this.victims.add(w);
      }
    }
  }

  /**
   * The store was replaced by a newer one (a snapshot from the leader) at revision `rev`: every
   * synced watcher goes to unsynced with its minRev, so it catches up from the new store's
   * history (or is told its start was compacted). Victims keep their pending response.
   */
  restore(rev: number): void {
    assert(Number.isSafeInteger(rev) && rev >= this.rev, `restore went back: ${rev} after ${this.rev}`);
    const before = this.rev;
    this.rev = rev;
    for (const w of [...this.synced.all()]) {
      w.minRev = Math.max(w.minRev, before + 1);
      if (w.minRev > rev) continue; // a future start stays synced
      this.synced.delete(w);
      w.state = 'unsynced';
      this.unsynced.add(w);
    }
  }

  /**
   * Offers each victim its unsent response again (etcd's syncVictimsLoop, one pass). A victim
   * whose response is taken moves to unsynced when revisions passed meanwhile, else to synced.
   * Returns how many victims are left.
   */
  retryVictims(): number {
    for (const w of [...this.victims]) {
      const p = w.pending;
      assert(p !== undefined && w.state === 'victim', 'a victim has a pending response');
      if (!w.send({ watchId: w.id, events: p.events, revision: p.rev })) continue;
      this.victims.delete(w);
      w.pending = undefined;
      w.minRev = p.rev + 1;
      this.add(w);
    }
    return this.victims.size;
  }

  /**
   * One bounded round of catching up (etcd's syncWatchers): retries victims, cancels unsynced
   * watchers whose start was compacted (one response with compactRevision), reads at most
   * maxEventsPerSync events of whole revisions from the oldest minRev among at most
   * maxWatchersPerSync watchers, and gives each its share. A watcher whose buffer is full keeps
   * its minRev and is tried again next round. Returns whether work is left (call again).
   */
  async syncOnce(): Promise<boolean> {
    assert(!this.syncing, 'syncOnce is not reentrant');
    this.syncing = true;
    try {
      this.retryVictims();
      if (this.unsynced.size === 0) return this.pending;
      const compactRev = this.history.compactRev;
      const chosen: Watcher[] = [];
      for (const w of this.unsynced) {
        if (chosen.length >= this.maxWatchersPerSync) break;
        if (w.minRev < compactRev || w.minRev < 1) {
          // etcd: minRev < compactRev -> compacted response, watcher gone; full buffer -> next round.
          const resp: WatchResponse = { watchId: w.id, events: [], revision: this.rev, compactRevision: compactRev, canceled: true };
          if (w.send(resp)) this.remove(w);
          continue;
        }
        chosen.push(w);
      }
      if (chosen.length === 0) return this.pending;
      const fromRev = Math.min(...chosen.map((w) => w.minRev));
      const toRev = this.rev;
      assert(fromRev <= toRev, 'an unsynced watcher is behind the current revision');
      let batch;
      try {
        batch = await this.history.eventsBetween(fromRev, toRev, this.maxEventsPerSync);
      } catch (e) {
        // Compacted while reading: the next round answers those watchers with compactRevision.
        if (e instanceof EtcdError && e.code === 'Compacted') return true;
        throw e;
      }
      // From here to the end there is no await: notify cannot run between the check and the move.
      const { events, nextRev } = batch;
      assert(nextRev > fromRev && nextRev <= toRev + 1, 'eventsBetween made no progress or read past toRev');
      for (const ev of events) {
        const r = ev.kv.modRevision;
        assert(r >= fromRev && r < nextRev, 'eventsBetween returned a revision outside [fromRev, nextRev)');
      }
      // Each event finds the watchers it concerns through the key and prefix indexes, as in
      // notify, rather than every watcher scanning every event.
      const group = new WatcherGroup();
      for (const w of chosen) if (w.state === 'unsynced' && w.minRev < nextRev) group.add(w);
      const matched = group.matching(events);
      for (const w of chosen) {
        if (w.state !== 'unsynced') continue; // canceled while we read
        if (w.minRev >= nextRev) continue; // nothing of this batch is for it
        const evs: Event[] = [];
        for (const ev of matched.get(w) ?? []) if (ev.kv.modRevision >= w.minRev) evs.push(w.shape(ev));
        if (evs.length > 0 && !w.send({ watchId: w.id, events: evs, revision: nextRev - 1 })) continue;
        w.minRev = nextRev;
        if (w.minRev > this.rev) {
          this.unsynced.delete(w);
          this.add(w);
        }
      }
      return this.pending;
    } finally {
      this.syncing = false;
    }
  }
}

/**
 * One Watch stream: watch ids are unique per stream; the watchers share the stream's send.
 */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>();
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly hub: WatchHub,
    readonly streamId: number,
    private readonly send: WatchSend,
  ) {}

  /**
   * Creates a watcher and returns its id. Throws Error(DUPLICATE_WATCH_ID) when a client-chosen
   * id is taken (the server answers with a canceled response carrying that text, as etcd).
   */
  watch(req: WatchRequest): number {
    assert(!this.closed, 'watch on a closed stream');
    let id = req.watchId ?? -1;
    if (id >= 0) {
      if (this.watchers.has(id)) throw new Error(DUPLICATE_WATCH_ID);
    } else {
      while (this.watchers.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const filters = req.filters ?? [];
    const w = new Watcher(
      id,
      this.streamId,
      toKeyRange(req.key, req.rangeEnd),
      req.startRevision ?? 0,
      req.prevKv === true,
      filters.includes(FilterType.NOPUT),
      filters.includes(FilterType.NODELETE),
      this.send,
    );
    this.watchers.set(id, w);
    this.hub.add(w);
    return id;
  }

  /** Cancels a watcher; false when the id is unknown (or already gone, e.g. compacted). */
  cancel(id: number): boolean {
    const w = this.watchers.get(id);
    if (w === undefined) return false;
    this.watchers.delete(id);
    return this.hub.remove(w);
  }

  /**
   * etcd's RequestProgress for one watcher: when it is synced, an empty response at the current
   * revision tells the client nothing before that revision is still on its way. Returns whether
   * one was sent (not for unsynced watchers or victims, nor when the buffer is full).
   */
  progress(id: number): boolean {
    const w = this.watchers.get(id);
    if (w === undefined || w.state !== 'synced') return false;
    return w.send({ watchId: id, events: [], revision: this.hub.currentRev });
  }

  /** Whether every watcher of the stream is synced (so a stream-wide progress answer is true). */
  allSynced(): boolean {
    for (const w of this.watchers.values()) if (w.state !== 'synced' && w.state !== 'canceled') return false;
    return true;
  }

  /** Cancels every watcher of the stream. */
  close(): void {
    for (const id of [...this.watchers.keys()]) this.cancel(id);
    this.closed = true;
  }
}
