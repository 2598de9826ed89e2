/**
 * One Watch call on a member (etcd's serverWatchStream, api/v3rpc/watch.go): turns create,
 * cancel and progress requests into watchers of the member's WatchHub, and the hub's responses
 * into etcdserverpb.WatchResponses the API layer pulls with next().
 *
 * Backpressure: the hub's send lands in a queue of at most `maxQueued` responses (events for a
 * watcher already queued join its response, see offer); when it is full the send is refused
 * and the hub holds that watcher aside as a victim (it catches up from history later). Control
 * responses (created, canceled) always go in, so they keep their place before the watcher's
 * first events. A client that stops reading therefore costs one bounded queue plus one pending
 * response per watcher, and the apply loop never waits for it.
 *
 * Filled in here, on the way out, as etcd's sendLoop does:
 * - prevKv for watchers that asked, when the write did not carry it (prev-kv.ts);
 * - fragments: a watcher that asked for them gets a response larger than the request size
 *   limit split into several, all but the last marked `fragment`;
 * - progress notifications: every `progressNotifyMs`, each synced watcher that asked for them
 *   and got nothing since the last round is sent an empty response at the current revision.
 */
import { DUPLICATE_WATCH_ID, fillPrevKvs, FilterType, type KvAt, type WatchHub, type WatchResponse, type WatchStream } from '../watch/index.js';
import type { Event, MemberWatchStream, ResponseHeader, WatchCreate, WatchResult } from './service.js';
import type { Failpoints } from './env.js';

/** etcd's text for a watch whose key is not before its range end. */
export const EMPTY_WATCHER_RANGE = 'mvcc: watcher range is empty';

export interface WatchStreamDeps {
  readonly hub: WatchHub;
  /** The header of a response at this revision (cluster, member, term). */
  header(revision: number): ResponseHeader;
  /** The key as of a revision, for prevKv. */
  readonly kvAt: KvAt;
  /** Fragment threshold: the request size limit (etcd's --max-request-bytes). */
  readonly maxResponseBytes: number;
  /** Responses buffered per stream before the hub's sends are refused. */
  readonly maxQueued: number;
  /** A watcher may need catching up (a new one, or the stream has room again): sync soon. */
  wantSync(): void;
  /** The stream closed (the member stops tracking it). */
  onClose(): void;
  readonly failpoints: Failpoints;
  /**
   * What each response passes through on its way out: production sends it as it is; the fault
   * harness's `skip-watch-event` control drops events, and must be caught.
   */
  readonly outgoing?: (result: WatchResult) => WatchResult;
}

interface Options {
  readonly prevKv: boolean;
  readonly fragment: boolean;
  readonly progressNotify: boolean;
}

type Queued = { readonly kind: 'hub'; resp: WatchResponse } | { readonly kind: 'control'; readonly result: WatchResult };
type QueuedHub = Extract<Queued, { kind: 'hub' }>;

const EMPTY: readonly Event[] = [];
/**
 * A joined response holds at most this many events (as many as one apply group's notify can
 * send), so a stream nobody reads holds at most maxQueued times that.
 */
const MAX_JOINED_EVENTS = 1000;

export class ServerWatchStream implements MemberWatchStream {
  private readonly stream: WatchStream;
  private readonly queue: Queued[] = [];
  /** Per watcher, its events response still in the queue, that later events can join. */
  private readonly joinable = new Map<number, QueuedHub>();
  /** Fragments of one response still to hand out, in order. */
  private readonly pieces: WatchResult[] = [];
  private readonly options = new Map<number, Options>();
  /** Watchers with progressNotify that were sent something since the last progress round. */
  private readonly active = new Set<number>();
  private waiting: (() => void) | undefined;
  private closed = false;
  private progressRequested = false;

  constructor(private readonly deps: WatchStreamDeps) {
    this.stream = deps.hub.newStream((resp) => this.offer(resp));
  }

  create(req: WatchCreate): void {
    if (this.closed) return;
    const rev = this.deps.hub.currentRev;
    // etcd: an empty key is the smallest key; an empty range end means the key alone.
    const key = req.key.byteLength === 0 ? new Uint8Array([0]) : req.key;
    const rangeEnd = req.rangeEnd !== undefined && req.rangeEnd.byteLength > 0 ? req.rangeEnd : undefined;
    const refuse = (reason: string): void =>
      this.control({ header: this.deps.header(rev), watchId: -1, created: true, canceled: true, cancelReason: reason, events: EMPTY });
    if (rangeEnd !== undefined && !(rangeEnd.byteLength === 1 && rangeEnd[0] === 0) && Buffer.compare(key, rangeEnd) >= 0) {
      refuse(EMPTY_WATCHER_RANGE);
      return;
    }
    const filters = (req.filters ?? []).filter((f): f is FilterType => f === FilterType.NOPUT || f === FilterType.NODELETE);
    let id: number;
    try {
      id = this.stream.watch({
        key,
        ...(rangeEnd !== undefined ? { rangeEnd } : {}),
        startRevision: req.startRevision ?? 0,
        prevKv: req.prevKv === true,
        filters,
        // etcd's AutoWatchID is 0: a client cannot choose id 0.
        ...(req.watchId !== undefined && req.watchId > 0 ? { watchId: req.watchId } : {}),
      });
    } catch (e) {
      if (e instanceof Error && e.message === DUPLICATE_WATCH_ID) {
        refuse(DUPLICATE_WATCH_ID);
        return;
      }
      throw e;
    }
    this.options.set(id, { prevKv: req.prevKv === true, fragment: req.fragment === true, progressNotify: req.progressNotify === true });
    // watch() only registers the watcher (its events come from a later notify or sync), so the
    // created response is the first for this id.
    this.control({ header: this.deps.header(rev), watchId: id, created: true, events: EMPTY });
    this.deps.wantSync();
  }

  cancel(watchId: number): void {
    if (this.closed) return;
    if (!this.stream.cancel(watchId)) return;
    this.options.delete(watchId);
    this.active.delete(watchId);
    this.control({ header: this.deps.header(this.deps.hub.currentRev), watchId, canceled: true, events: EMPTY });
  }

  requestProgress(): void {
    if (this.closed) return;
    this.progressRequested = true;
    this.answerProgressRequest();
  }

  /**
   * etcd 3.4 answers a progress request at once with one response, watch id -1, at the current
   * revision. That claims every event up to it was sent, which is false while a watcher of the
   * stream is still catching up; so, as etcd 3.5 does, the answer waits until none is. The
   * member calls this after each round of catching up.
   */
  answerProgressRequest(): void {
    if (!this.progressRequested || this.closed || !this.stream.allSynced()) return;
    this.progressRequested = false;
    this.control({ header: this.deps.header(this.deps.hub.currentRev), watchId: -1, events: EMPTY });
  }

  /** One round of progress notifications (the member calls this every progress interval). */
  progressRound(): void {
    if (this.closed) return;
    for (const [id, o] of this.options) {
      if (!o.progressNotify) continue;
      if (this.active.delete(id)) continue;
      this.stream.progress(id);
    }
  }

  async next(): Promise<WatchResult | undefined> {
    for (;;) {
      const piece = this.pieces.shift();
      if (piece !== undefined) return piece;
      if (this.closed) return undefined;
      const item = this.queue.shift();
      if (item === undefined) {
        await new Promise<void>((r) => (this.waiting = r));
        continue;
      }
      if (item.kind === 'hub' && this.joinable.get(item.resp.watchId) === item) this.joinable.delete(item.resp.watchId);
      if (this.queue.length === this.deps.maxQueued - 1) this.deps.wantSync();
      if (item.kind === 'control') return item.result;
      const fp = this.deps.failpoints;
      if (fp.armed) await fp.hit('beforeWatchResponse');
      const result = await this.toResult(item.resp);
      if (result !== undefined) return this.deps.outgoing ? this.deps.outgoing(result) : result;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
    this.queue.length = 0;
    this.joinable.clear();
    this.pieces.length = 0;
    this.wakeReader();
    this.deps.onClose();
  }

  /**
   * The hub's non-blocking send: refused when the queue is full. Events for a watcher whose
   * previous events response is still queued join that response (its revision becomes the new
   * one), so a watcher the reader has not caught up with costs one queued response, not one per
   * revision, and fewer, larger messages go out when the member is busy. Each revision stays
   * whole and in order, as in the catch-up responses etcd sends.
   */
  private offer(resp: WatchResponse): boolean {
    if (this.closed) return true; // nobody reads: take it and drop it
    const plain = resp.events.length > 0 && resp.canceled !== true && resp.compactRevision === undefined;
    // Anything else (a progress notification, a compacted cancel) ends joining for the watcher,
    // so no event moves ahead of a response that was queued after it.
    if (!plain) this.joinable.delete(resp.watchId);
    const queued = plain ? this.joinable.get(resp.watchId) : undefined;
    if (queued !== undefined && queued.resp.events.length + resp.events.length <= MAX_JOINED_EVENTS) {
      queued.resp = { watchId: resp.watchId, events: [...queued.resp.events, ...resp.events], revision: resp.revision };
      return true;
    }
    if (this.queue.length >= this.deps.maxQueued) return false;
    const item: QueuedHub = { kind: 'hub', resp };
    this.queue.push(item);
    if (plain) this.joinable.set(resp.watchId, item);
    if (resp.events.length > 0) this.active.add(resp.watchId);
    this.wakeReader();
    return true;
  }

  private control(result: WatchResult): void {
    // Events after a created or canceled response must not join one queued before it: a
    // client-chosen id can be canceled and created again while the old response waits.
    this.joinable.delete(result.watchId);
    this.queue.push({ kind: 'control', result });
    this.wakeReader();
  }

  private wakeReader(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private async toResult(resp: WatchResponse): Promise<WatchResult | undefined> {
    const o = this.options.get(resp.watchId);
    if (resp.canceled === true) {
      // The hub canceled it (compacted start revision): the watcher is gone. etcd 3.4 sends this
      // header without a revision.
      this.options.delete(resp.watchId);
      this.active.delete(resp.watchId);
      return { header: this.deps.header(0), watchId: resp.watchId, canceled: true, compactRevision: resp.compactRevision ?? 0, events: EMPTY };
    }
    if (o === undefined) return undefined; // canceled meanwhile
    let events = resp.events;
    if (o.prevKv && events.length > 0) {
      try {
        events = await fillPrevKvs(events, this.deps.kvAt);
      } catch {
        // The previous revision was compacted meanwhile: etcd sends the events without it.
      }
    }
    const header = this.deps.header(resp.revision);
    if (!o.fragment || events.length <= 1) return { header, watchId: resp.watchId, events };
    const parts = fragments(events, this.deps.maxResponseBytes);
    if (parts.length === 1) return { header, watchId: resp.watchId, events };
    parts.forEach((part, i) => this.pieces.push({ header, watchId: resp.watchId, events: part, fragment: i < parts.length - 1 }));
    return this.pieces.shift();
  }
}

/** Splits events into runs of at most maxBytes (estimated as etcd's encoded size), at least one each. */
export function fragments(events: readonly Event[], maxBytes: number): Event[][] {
  const out: Event[][] = [];
  let cur: Event[] = [];
  let bytes = 0;
  for (const ev of events) {
    const size = eventBytes(ev);
    if (cur.length > 0 && bytes + size > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(ev);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** About the protobuf size of an Event: the key-value bytes plus the varint fields. */
function eventBytes(ev: Event): number {
  const kvBytes = (kv: { key: Uint8Array; value: Uint8Array }): number => kv.key.byteLength + kv.value.byteLength + 40;
  return kvBytes(ev.kv) + (ev.prevKv !== undefined ? kvBytes(ev.prevKv) : 0) + 4;
}
