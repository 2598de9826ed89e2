/**
 * The member's watch side: the hub fed by the applier, the open streams, and the rounds that
 * catch unsynced watchers up from history (bounded, yielding in between) and offer victims
 * their responses again.
 */
import type { MvccStore } from '../mvcc/index.js';
import type { Logger } from '../util/logger.js';
import { WatchHub } from '../watch/index.js';
import type { Failpoints, TimerHandle, Timers } from './env.js';
import type { MemberWatchStream, ResponseHeader, WatchResult } from './service.js';
import { ServerWatchStream } from './watch-stream.js';

/** How often slow watchers (victims) are offered their responses again. */
const WATCH_RETRY_MS = 100;
/** Responses buffered per watch stream before watchers are held aside (etcd's chanBufLen). */
const WATCH_STREAM_BUFFER = 128;

export interface WatchServerDeps {
  /** The current store (a snapshot from the leader replaces it). */
  readonly store: () => MvccStore;
  readonly header: (revision: number) => ResponseHeader;
  readonly timers: Timers;
  readonly failpoints: Failpoints;
  readonly logger: Logger;
  readonly maxResponseBytes: number;
  /** --experimental-watch-progress-notify-interval */
  readonly progressNotifyMs: number;
  readonly isRunning: () => boolean;
  /** A filter per stream for what goes out (test strategies); none in production. */
  readonly outgoing?: () => (result: WatchResult) => WatchResult;
}

export class WatchServer {
  readonly hub: WatchHub;
  private readonly streams = new Set<ServerWatchStream>();
  private syncing = false;
  private timers: TimerHandle[] = [];

  constructor(private readonly deps: WatchServerDeps) {
    const store = deps.store;
    this.hub = new WatchHub({
      history: {
        get compactRev() {
          return store().compactRev;
        },
        get currentRev() {
          return store().currentRev;
        },
        eventsBetween: (from, to, limit) => store().eventsBetween(from, to, limit),
      },
    });
  }

  start(): void {
    this.timers = [
      this.deps.timers.every(WATCH_RETRY_MS, () => this.scheduleSync()),
      this.deps.timers.every(this.deps.progressNotifyMs, () => {
        for (const s of this.streams) s.progressRound();
      }),
    ];
  }

  /** Stops the timers and closes every stream. */
  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    for (const s of [...this.streams]) s.close();
  }

  open(): MemberWatchStream {
    const store = this.deps.store;
    const outgoing = this.deps.outgoing?.();
    const stream: ServerWatchStream = new ServerWatchStream({
      hub: this.hub,
      header: this.deps.header,
      kvAt: async (key, rev) => (await store().range(key, undefined, { revision: rev })).kvs[0],
      maxResponseBytes: this.deps.maxResponseBytes,
      maxQueued: WATCH_STREAM_BUFFER,
      wantSync: () => this.scheduleSync(),
      onClose: () => this.streams.delete(stream),
      failpoints: this.deps.failpoints,
      ...(outgoing ? { outgoing } : {}),
    });
    this.streams.add(stream);
    return stream;
  }

  /** A snapshot replaced the store: every watcher catches up from the new one. */
  restored(revision: number): void {
    this.hub.restore(revision);
    this.scheduleSync();
  }

  stats(): { synced: number; unsynced: number; victims: number; streams: number } {
    return { ...this.hub.stats(), streams: this.streams.size };
  }

  /**
   * Catches unsynced watchers up from history, one bounded round after another, yielding to the
   * event loop in between; victims are retried here too (every WATCH_RETRY_MS by a timer).
   */
  scheduleSync(): void {
    if (this.syncing || !this.deps.isRunning() || !this.hub.pending) return;
    this.syncing = true;
    void (async () => {
      try {
        while (this.deps.isRunning() && this.hub.pending) {
          await this.hub.syncOnce();
          for (const s of this.streams) s.answerProgressRequest();
          // Only victims left: their streams are full; the timer offers again later.
          if (this.hub.stats().unsynced === 0) break;
          await this.deps.timers.yield();
        }
      } catch (e) {
        this.deps.logger.warn('watch sync failed; retrying', { error: String(e) });
      } finally {
        this.syncing = false;
      }
    })();
  }
}
