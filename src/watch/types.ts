/**
 * The shapes src/watch speaks, mirroring etcd's WatchCreateRequest / WatchResponse (camelCase).
 * There is no ResponseHeader: the server adds cluster id, member id and raft term.
 */
import type { Event } from '../mvcc/index.js';

/** etcdserverpb.WatchCreateRequest.FilterType. */
export enum FilterType {
  /** Drop PUT events. */
  NOPUT = 0,
  /** Drop DELETE events. */
  NODELETE = 1,
}

/** The part of a WatchCreateRequest the watchable store acts on. */
export interface WatchRequest {
  readonly key: Uint8Array;
  /**
   * As etcd: absent or empty, the single key; one zero byte, every key >= key (key = one zero
   * byte too: all keys); otherwise the keys in [key, rangeEnd).
   */
  readonly rangeEnd?: Uint8Array;
  /** First revision to deliver; 0 means "from the next revision"; a negative one is refused as compacted (as etcd). */
  readonly startRevision?: number;
  /** Deliver the previous kv with each event (see prev-kv.ts: the stream fills missing ones). */
  readonly prevKv?: boolean;
  readonly filters?: readonly FilterType[];
  /** Client-chosen watch id; absent or negative: the stream assigns the next free one. */
  readonly watchId?: number;
}

/**
 * etcdserverpb.WatchResponse without the header. Events of whole revisions up to `revision`
 * (empty only in a progress response: nothing up to `revision` is still to come), or a
 * cancellation with `compactRevision` set (the watcher's start revision was compacted; the
 * watcher is gone).
 */
export interface WatchResponse {
  readonly watchId: number;
  readonly events: readonly Event[];
  /** The last revision this response covers (etcd's header.revision). */
  readonly revision: number;
  /** Set, with canceled, when the requested start revision was compacted. */
  readonly compactRevision?: number;
  readonly canceled?: boolean;
}

/**
 * A stream's non-blocking send (etcd's buffered `ch <- resp` in a select with default). Returns
 * false when the stream's buffer is full: the response was NOT taken and will be offered again.
 */
export type WatchSend = (response: WatchResponse) => boolean;

/** A slice of history read by WatchHistory.eventsBetween. */
export interface HistoryBatch {
  /** Events of whole revisions, in revision then sub-revision order. */
  readonly events: readonly Event[];
  /** The first revision not covered: every revision in [fromRev, nextRev) was read. */
  readonly nextRev: number;
}

/**
 * What the hub reads history through. MvccStore has no public way to read events by revision
 * yet, so the server supplies an implementation (tests use an in-memory one).
 */
export interface WatchHistory {
  /** Reads below this revision fail with Compacted; -1 before the first compaction. */
  readonly compactRev: number;
  /** The last committed revision. */
  readonly currentRev: number;
  /**
   * The events of revisions in [fromRev, toRev], stopping after the revision that reaches
   * `limit` events (so a revision is never split, and one revision may exceed the limit).
   * nextRev > fromRev always (progress). Rejects with EtcdError('Compacted') when
   * fromRev < compactRev.
   */
  eventsBetween(fromRev: number, toRev: number, limit: number): Promise<HistoryBatch>;
}
