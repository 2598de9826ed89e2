/**
 * Watch guarantees (item 28), per watch request, against the collectors' committed-event log:
 *
 * - filter: events are in the requested key range and pass the NOPUT/NODELETE filters;
 * - ordered: revisions never go back; unique: one event per (revision, key);
 * - atomic: a revision's events are never split across responses (unless marked `fragment`);
 * - bookmarkable: a progress notification's revision is ≥ every event already delivered, never
 *   goes back, and no later event has a revision ≤ it;
 * - reliable: between the lowest and highest revision the watcher can vouch for, the delivered
 *   events equal the committed matching events (no gap, nothing extra);
 * - resumable: the first event is the first committed matching event at or after start_revision;
 * - prevKV: equals the key's previous committed value; IsCreate: version 1 ⇔ a create;
 * - compaction: a watch canceled as compacted names a compact revision above its start, and a
 *   watch from a revision compacted before it was opened is canceled.
 *
 * The collectors are watches too, and the ground truth cannot vouch for them, so their own
 * reliability is checked from what they promised (committed-log.ts): a collector owes an event
 * at every revision from its start revision (1, or the compact revision) up to the last revision
 * it delivered or was told about by a progress notification. A revision it owed and did not
 * deliver is a 'watch-gap' of that collector, with a witness: what another collector or watcher
 * received at that revision, or the acknowledged write that returned it (given the history), or
 * else the revisions it delivered on both sides. Revisions no collector covered (compacted before
 * any started) stay unknown.
 *
 * Example: committed [PUT a@5, PUT b@6, PUT a@7]; a prefix watch from 5 delivers a@5 then a@7:
 * reliable fails at b@6 ('watch-gap').
 */
import { isNemesis, type ClientEvent, type HistoryEvent, type WatchEventRecord, type WatchRecord } from '../history.js';
import { deliveredEvents, eventKey, hasHole, type CommittedLog } from './committed-log.js';
import { AnomalySink, type Anomaly, type CheckResult } from './result.js';

export interface WatchOptions {
  readonly committed?: CommittedLog;
  readonly collectorAnomalies?: readonly Anomaly[];
  /** Compactions the harness ran: revision, and when the request completed. */
  /**
   * Compactions: `node` is the member that answered, `certain` false when the answer was lost
   * (it may or may not have happened).
   */
  readonly compactions?: readonly { readonly revision: number; readonly time_ns: number; readonly node?: string; readonly certain?: boolean }[];
  /** The history: acknowledged writes witness the revisions a collector missed. */
  readonly events?: readonly HistoryEvent[];
}

export function matchesWatch(w: WatchRecord, e: { readonly key: string; readonly type: 'PUT' | 'DELETE' }): boolean {
  const inRange = w.range_end === undefined ? e.key === w.key : e.key >= w.key && (w.range_end === '\u0000' || e.key < w.range_end);
  if (!inRange) return false;
  if (w.filters?.includes('NOPUT') === true && e.type === 'PUT') return false;
  if (w.filters?.includes('NODELETE') === true && e.type === 'DELETE') return false;
  return true;
}

/** First index in `events` (sorted by mod_revision) with mod_revision ≥ rev. */
function lowerBound(events: readonly WatchEventRecord[], rev: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.mod_revision < rev) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function checkWatch(watches: readonly WatchRecord[], opts: WatchOptions = {}): CheckResult {
  const sink = new AnomalySink();
  const log = opts.committed;
  const byKey = new Map<string, WatchEventRecord[]>();
  for (const e of log?.events ?? []) {
    const list = byKey.get(e.key) ?? [];
    list.push(e);
    byKey.set(e.key, list);
  }
  let compactFloor = 0;
  for (const c of opts.compactions ?? []) compactFloor = Math.max(compactFloor, c.revision);
  for (const w of watches) for (const r of w.responses) compactFloor = Math.max(compactFloor, r.compact_revision);
  const stats = { watches: 0, events: 0, progressNotifications: 0, compactedWatches: 0, comparedEvents: 0 };
  const where = (w: WatchRecord, resp?: number): Record<string, unknown> => ({ watcher: w.watcher, node: w.node, watch_time_ns: w.time_ns, start_revision: w.start_revision, ...(resp === undefined ? {} : { response: resp }) });
  if (log === undefined && watches.some((w) => w.collector !== true)) sink.unknown('no collector ground truth: reliable, resumable and prevKV were not checked');
  for (const w of watches) {
    if (w.collector === true) continue;
    stats.watches++;
    const label = `watch ${w.watcher} (${w.key}${w.range_end === undefined ? '' : `..${w.range_end === '\u0000' ? '∞' : w.range_end}`} from ${w.start_revision})`;
    const delivered = deliveredEvents(w);
    stats.events += delivered.length;
    let lastRev = 0;
    let lastResp = -1;
    let maxEventRev = 0;
    let lastProgress = 0;
    const seen = new Set<string>();
    const bad = (type: string, message: string, resp: number, details: Record<string, unknown> = {}): void => sink.add({ type, key: w.key, message: `${label}: ${message}`, events: [], details: { ...where(w, resp), ...details } });
    w.responses.forEach((resp, ri) => {
      if (resp.progress_notify) {
        stats.progressNotifications++;
        if (resp.revision < maxEventRev) bad('watch-bookmark', `progress notification at revision ${resp.revision} after an event of revision ${maxEventRev}`, ri);
        if (resp.revision < lastProgress) bad('watch-bookmark', `progress notification went back from ${lastProgress} to ${resp.revision}`, ri);
        lastProgress = Math.max(lastProgress, resp.revision);
      }
      if (resp.canceled && resp.compact_revision > 0) {
        stats.compactedWatches++;
        if (w.start_revision > 0 && resp.compact_revision <= w.start_revision) bad('watch-compacted', `canceled as compacted at ${resp.compact_revision}, but it started at ${w.start_revision}`, ri);
      }
      for (const ev of resp.events) {
        if (!matchesWatch(w, ev)) bad('watch-filter', `delivered ${ev.type} ${ev.key}@${ev.mod_revision}, outside its range or filters`, ri, { event: ev });
        if (ev.mod_revision < lastRev) bad('watch-order', `event ${ev.key}@${ev.mod_revision} after revision ${lastRev}`, ri, { event: ev });
        const u = `${ev.mod_revision}|${ev.key}`;
        if (seen.has(u)) bad('watch-duplicate', `event ${ev.key}@${ev.mod_revision} delivered twice`, ri, { event: ev });
        seen.add(u);
        if (ev.mod_revision === lastRev && ri !== lastResp && lastResp >= 0 && w.responses[lastResp]?.fragment !== true) {
          bad('watch-split-revision', `revision ${ev.mod_revision} split across responses ${lastResp} and ${ri}`, ri, { event: ev });
        }
        if (lastProgress > 0 && ev.mod_revision <= lastProgress) bad('watch-bookmark', `event ${ev.key}@${ev.mod_revision} after a progress notification at ${lastProgress}`, ri, { event: ev });
        if (ev.type === 'PUT' && (ev.version === 1) !== (ev.create_revision === ev.mod_revision)) {
          bad('watch-is-create', `event ${ev.key}@${ev.mod_revision} has version ${ev.version} but create_revision ${ev.create_revision}`, ri, { event: ev });
        }
        if (w.prev_kv && log !== undefined) checkPrevKv(ev, ri, byKey.get(ev.key) ?? [], log, compactFloor, bad);
        lastRev = ev.mod_revision;
        lastResp = ri;
        maxEventRev = Math.max(maxEventRev, ev.mod_revision);
      }
    });
    const compacted = w.responses.some((r) => r.canceled && r.compact_revision > 0);
    // A watch that got no response at all (its member down, the stream cut before the create
    // reached it) was never served, so it had nothing to be canceled by.
    for (const c of w.responses.length === 0 ? [] : (opts.compactions ?? [])) {
      // Only a compaction the same member had answered: others apply it later, so a watch
      // there may legitimately start below it for a while (as in etcd).
      if (c.certain === false || c.node === undefined || c.node !== w.node) continue;
      if (w.start_revision > 0 && w.start_revision < c.revision && c.time_ns < w.time_ns && !compacted) {
        bad('watch-compacted', `started at ${w.start_revision} after compaction to ${c.revision} completed, but was not canceled as compacted`, 0, { compaction: c });
        break;
      }
    }
    if (log === undefined || compacted) continue;
    // reliable / resumable against the ground truth.
    const first = delivered[0]?.event.mod_revision;
    const lower = Math.max(w.start_revision > 0 ? w.start_revision : (first ?? Infinity), log.fromRevision);
    const upper = Math.min(Math.max(maxEventRev, lastProgress), log.toRevision);
    if (!(lower <= upper)) continue;
    if (hasHole(log, lower, upper)) {
      sink.unknown(`${label}: the committed log misses revisions in [${lower}, ${upper}]`);
      continue;
    }
    const expected: WatchEventRecord[] = [];
    for (let i = lowerBound(log.events, lower); i < log.events.length; i++) {
      const e = log.events[i]!;
      if (e.mod_revision > upper) break;
      if (matchesWatch(w, e)) expected.push(e);
    }
    const got = delivered.filter((d) => d.event.mod_revision >= lower && d.event.mod_revision <= upper);
    stats.comparedEvents += got.length;
    const expectedKeys = new Set(expected.map(eventKey));
    const n = Math.max(expected.length, got.length);
    for (let i = 0; i < n; i++) {
      const e = expected[i];
      const g = got[i];
      if (e !== undefined && g !== undefined && eventKey(e) === eventKey(g.event)) continue;
      const ri = g?.response ?? w.responses.length - 1;
      if (i === 0 && w.start_revision > 0 && (g === undefined || e === undefined || g.event.mod_revision !== e.mod_revision)) {
        bad('watch-resumable', `first event should be ${e === undefined ? 'none' : `${e.type} ${e.key}@${e.mod_revision}`} (first committed at or after ${w.start_revision}), got ${g === undefined ? 'none' : `${g.event.type} ${g.event.key}@${g.event.mod_revision}`}`, ri, { expected: e, got: g?.event });
      } else if (g === undefined || (e !== undefined && (e.mod_revision < g.event.mod_revision || expectedKeys.has(eventKey(g.event))))) {
        bad('watch-gap', `missed committed event ${e === undefined ? '?' : `${e.type} ${e.key}@${e.mod_revision}`}${g === undefined ? '' : ` (next delivered: ${g.event.key}@${g.event.mod_revision})`}`, ri, { expected: e, got: g?.event });
      } else {
        bad('watch-unexpected-event', `delivered ${g.event.type} ${g.event.key}@${g.event.mod_revision} which does not match the committed log (${e === undefined ? 'nothing' : eventKey(e)})`, ri, { expected: e, got: g.event });
      }
      break;
    }
  }
  if (log !== undefined) reportCollectorGaps(log, watches, opts.events ?? [], sink);
  for (const a of opts.collectorAnomalies ?? []) sink.add(a);
  return sink.result('watch', { ...stats, collectorGaps: log?.gaps.length ?? 0 });
}

interface WriteWitness {
  readonly invoke: ClientEvent;
  readonly complete: ClientEvent;
}

/** Acknowledged ops that created a revision, by that revision (their ok header revision). */
function writesByRevision(events: readonly HistoryEvent[]): Map<number, WriteWitness> {
  const out = new Map<number, WriteWitness>();
  const open = new Map<number, ClientEvent>();
  for (const e of events) {
    if (isNemesis(e)) continue;
    if (e.type === 'invoke') {
      open.set(e.process, e);
      continue;
    }
    const inv = open.get(e.process);
    open.delete(e.process);
    if (inv === undefined || e.type !== 'ok' || e.revision === undefined || out.has(e.revision)) continue;
    const creates =
      inv.f === 'write' ||
      inv.f === 'cas' ||
      inv.f === 'lease-put' ||
      inv.f === 'add' ||
      (inv.f === 'delete' && typeof e.value === 'number' && e.value > 0) ||
      (inv.f === 'txn' && (inv.txn ?? []).some((m) => m[0] === 'append' || m[0] === 'w'));
    if (creates) out.set(e.revision, { invoke: inv, complete: e });
  }
  return out;
}

/** Reports each revision a collector owed and did not deliver, with the best witness there is. */
function reportCollectorGaps(log: CommittedLog, watches: readonly WatchRecord[], events: readonly HistoryEvent[], sink: AnomalySink): void {
  if (log.gaps.length === 0) return;
  const writes = writesByRevision(events);
  const received = new Map<number, { watcher: string; node: string; event: WatchEventRecord }>();
  for (const w of watches) {
    if (w.collector === true) continue;
    for (const r of w.responses) for (const event of r.events) if (!received.has(event.mod_revision)) received.set(event.mod_revision, { watcher: w.watcher, node: w.node, event });
  }
  const ev = (e: WatchEventRecord): string => `${e.type} ${e.key}${e.type === 'PUT' ? `=${e.value}` : ''}@${e.mod_revision}`;
  for (const g of log.gaps) {
    const revs = g.from === g.to ? `revision ${g.from}` : `revisions ${g.from}..${g.to}`;
    const where = `collector ${g.collector} (on ${g.node}, watching every key over [${g.covered[0]}, ${g.covered[1]}])`;
    const details: Record<string, unknown> = { collector: g.collector, node: g.node, kind: g.kind, revisions: [g.from, g.to], covered: g.covered };
    let witnessText: string;
    let witnessEvents: number[] = [];
    let key: string | undefined;
    const other = g.missed[0];
    let write: WriteWitness | undefined;
    let seen: { watcher: string; node: string; event: WatchEventRecord } | undefined;
    for (let r = g.from; r <= g.to && write === undefined; r++) write = writes.get(r);
    for (let r = g.from; r <= g.to && seen === undefined; r++) seen = received.get(r);
    // The acknowledged write is the strongest witness of a missing revision (and links to the
    // history); a part-delivered revision is best shown by the events another collector got.
    if (write !== undefined && g.kind === 'revision') {
      witnessText = `${write.invoke.f} ${write.invoke.key ?? ''} (history index ${write.invoke.index}) was acknowledged with revision ${write.complete.revision}`;
      key = write.invoke.key;
      details['witness'] = { f: write.invoke.f, key: write.invoke.key, revision: write.complete.revision };
    } else if (other !== undefined) {
      witnessText = `collector ${other.collector} delivered ${g.missed.map((m) => ev(m.event)).join(', ')}`;
      key = other.event.key;
      details['missed'] = g.missed;
    } else if (seen !== undefined) {
      witnessText = `watcher ${seen.watcher} (on ${seen.node}) received ${ev(seen.event)}`;
      key = seen.event.key;
      details['witness'] = seen;
    } else {
      witnessText = `every revision is a write with an event, and it delivered ${g.deliveredBefore > 0 ? `revision ${g.deliveredBefore}` : 'nothing'} before and ${g.deliveredAfter > 0 ? `revision ${g.deliveredAfter}` : `a progress notification at ${g.covered[1]}`} after`;
    }
    if (write !== undefined) witnessEvents = [write.invoke.index, write.complete.index];
    const message = `${where} ${g.kind === 'events' ? `delivered only part of ${revs}` : `delivered nothing at ${revs}`}; ${witnessText}`;
    sink.add({ type: 'watch-gap', message, events: witnessEvents, ...(key === undefined ? {} : { key }), details });
  }
}

function checkPrevKv(
  ev: WatchEventRecord,
  ri: number,
  keyEvents: readonly WatchEventRecord[],
  log: CommittedLog,
  compactFloor: number,
  bad: (type: string, message: string, resp: number, details?: Record<string, unknown>) => void,
): void {
  const i = lowerBound(keyEvents, ev.mod_revision) - 1;
  const prev = i >= 0 ? keyEvents[i] : undefined;
  // A hole between the previous known event (or the start) and this one: unknown.
  if (hasHole(log, prev === undefined ? 1 : prev.mod_revision, ev.mod_revision - 1)) return;
  const want = prev !== undefined && prev.type === 'PUT' ? prev : undefined;
  const got = ev.prev_kv;
  if (want === undefined) {
    if (got !== undefined) bad('watch-prev-kv', `event ${ev.key}@${ev.mod_revision} carries prev_kv ${got.value}@${got.mod_revision}, but the key did not exist before`, ri, { event: ev });
    return;
  }
  if (got === undefined) {
    if (ev.mod_revision - 1 >= compactFloor) bad('watch-prev-kv-missing', `event ${ev.key}@${ev.mod_revision} lacks prev_kv (expected ${want.value}@${want.mod_revision})`, ri, { event: ev, expected: want });
    return;
  }
  if (got.value !== want.value || got.mod_revision !== want.mod_revision || got.create_revision !== want.create_revision || got.version !== want.version) {
    bad('watch-prev-kv', `event ${ev.key}@${ev.mod_revision} has prev_kv ${got.value}@${got.mod_revision} v${got.version}, expected ${want.value}@${want.mod_revision} v${want.version}`, ri, { event: ev, expected: want });
  }
}
