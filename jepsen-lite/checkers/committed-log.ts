/**
 * The ground truth of what was committed: the end-of-run collectors (item 10) watch every key
 * from revision 1 to the final revision, one per member. The committed-event log is their union,
 * revision by revision, which the register, watch and lease checkers compare against.
 *
 * What a collector vouches for (its coverage): each of its watch requests covers the revisions
 * from its start revision to the highest revision it delivered an event for or was told about
 * in a progress notification. Every revision above 1 is a write with at least one event (a
 * request that changes nothing does not create one), so inside its coverage a collector owes an
 * event at every revision. Two kinds of disagreement follow:
 *
 * - a collector that delivered nothing at a revision it covered, or fewer events there than
 *   another collector, missed events: a watch 'reliable' violation of that collector's stream
 *   (`gaps`, reported by the watch checker with a witness), not a disagreement between members;
 * - two collectors that delivered conflicting events at one revision (neither a subset of the
 *   other) saw different histories ('collectors-differ', item 26).
 *
 * Collectors are compared only where both vouched: one that stopped early (its member removed or
 * not restarted) covers a prefix, and is not complete, but is not wrong for it.
 *
 * Revisions no collector delivered an event for are `holes`: unknown ground truth, whether no
 * collector covered them (compacted before any started, a reopening that was cut) or every
 * collector that covered them missed them (also in `gaps`).
 *
 * Example: c-n1 delivers [PUT a=1 @2, PUT b=1 @3, DELETE a @4] and c-n2 delivers [PUT a=1 @2,
 * DELETE a @4], both from revision 1: the log is the three events (fromRevision 1, toRevision 4,
 * no hole), and c-n2 has a gap at revision 3 (witness: c-n1's PUT b=1 @3).
 */
import type { WatchEventRecord, WatchRecord } from '../history.js';
import type { Anomaly } from './result.js';

/** Events of a missed revision kept in a gap, as a witness. */
const MAX_MISSED_EVENTS = 5;

/** Revisions a collector owed and did not deliver (or delivered only part of). */
export interface CollectorGap {
  readonly collector: string;
  readonly node: string;
  /** 'revision': nothing delivered at [from, to]; 'events': only part of revision from (= to). */
  readonly kind: 'revision' | 'events';
  readonly from: number;
  readonly to: number;
  /** Why the collector owed [from, to]: the coverage interval of its watch request. */
  readonly covered: readonly [number, number];
  /** The nearest revisions it did deliver events for below and above the gap (0: none). */
  readonly deliveredBefore: number;
  readonly deliveredAfter: number;
  /** What other collectors delivered there (at most a few events), with who delivered them. */
  readonly missed: readonly { readonly collector: string; readonly event: WatchEventRecord }[];
}

export interface CollectorCoverage {
  readonly name: string;
  readonly node: string;
  /** Revision ranges [from, to] it vouched for, merged and sorted. */
  readonly ranges: readonly (readonly [number, number])[];
  /** One range from the log's first revision to its last event: it saw the whole run. */
  readonly complete: boolean;
}

export interface CommittedLog {
  /** All committed events in revision order (within a revision, in the order applied). */
  readonly events: readonly WatchEventRecord[];
  /** Lowest revision the log covers: 1 when a collector watched from the start. */
  readonly fromRevision: number;
  /** Highest event revision in the log (0 when empty). */
  readonly toRevision: number;
  /** Revision ranges [from, to] in [fromRevision, toRevision] with no event in the log. */
  readonly holes: readonly (readonly [number, number])[];
  /** The collectors (watcher names), most events first. */
  readonly collectors: readonly string[];
  readonly coverage: readonly CollectorCoverage[];
  /** Deliveries collectors owed and did not make: watch violations (see the top comment). */
  readonly gaps: readonly CollectorGap[];
}

export function eventKey(e: WatchEventRecord): string {
  return `${e.type}|${e.key}|${e.value ?? ''}|${e.mod_revision}|${e.create_revision}|${e.version}|${e.lease ?? ''}`;
}

/** Events of a watch record's responses, in order, with the response index of each. */
export function deliveredEvents(r: WatchRecord): { event: WatchEventRecord; response: number }[] {
  const out: { event: WatchEventRecord; response: number }[] = [];
  r.responses.forEach((resp, i) => {
    for (const event of resp.events) out.push({ event, response: i });
  });
  return out;
}

/** Whether the log misses any revision in [lo, hi]. */
export function hasHole(log: CommittedLog, lo: number, hi: number): boolean {
  return lo < log.fromRevision || log.holes.some(([a, b]) => a <= hi && b >= lo);
}

/** One collector's deliveries, glued over its reopenings. */
interface CollectorView {
  readonly name: string;
  readonly node: string;
  /** Events by revision, each event once (a reopening may deliver a revision again). */
  readonly byRev: Map<number, { events: WatchEventRecord[]; keys: Set<string> }>;
  /** Merged, sorted coverage ranges. */
  readonly ranges: [number, number][];
  /** Its first request started at revision 1 and was not canceled as compacted. */
  fromStart: boolean;
  eventCount: number;
}

function viewOf(name: string, records: readonly WatchRecord[]): CollectorView {
  const view: CollectorView = { name, node: records[0]?.node ?? '', byRev: new Map(), ranges: [], fromStart: false, eventCount: 0 };
  const raw: [number, number][] = [];
  records.forEach((r, i) => {
    const compacted = r.responses.some((resp) => resp.canceled && resp.compact_revision > 0);
    if (i === 0) view.fromStart = r.start_revision <= 1 && !compacted;
    let first: number | undefined;
    let hi = 0;
    for (const resp of r.responses) {
      for (const e of resp.events) {
        first ??= e.mod_revision;
        hi = Math.max(hi, e.mod_revision);
        let at = view.byRev.get(e.mod_revision);
        if (at === undefined) {
          at = { events: [], keys: new Set() };
          view.byRev.set(e.mod_revision, at);
        }
        const k = eventKey(e);
        if (at.keys.has(k)) continue;
        at.keys.add(k);
        at.events.push(e);
        view.eventCount++;
      }
      // A progress notification says every event up to its revision was sent.
      if (resp.progress_notify && !resp.canceled) hi = Math.max(hi, resp.revision);
    }
    const lo = r.start_revision > 0 ? r.start_revision : (first ?? Infinity);
    if (lo <= hi) raw.push([lo, hi]);
  });
  raw.sort((a, b) => a[0] - b[0]);
  for (const [lo, hi] of raw) {
    const last = view.ranges[view.ranges.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else view.ranges.push([lo, hi]);
  }
  return view;
}

function describeEvents(events: readonly WatchEventRecord[]): string {
  return events.length === 0 ? 'nothing' : events.map((e) => `${e.type} ${e.key}${e.type === 'PUT' ? `=${e.value}` : ''}`).join(', ');
}

/** Highest key of `revs` (sorted) below `rev`, or 0; lowest above `rev`, or 0. */
function neighbours(revs: readonly number[], rev: number): [number, number] {
  let lo = 0;
  let hi = revs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (revs[mid]! < rev) lo = mid + 1;
    else hi = mid;
  }
  const before = lo > 0 ? revs[lo - 1]! : 0;
  let i = lo;
  while (i < revs.length && revs[i]! <= rev) i++;
  return [before, i < revs.length ? revs[i]! : 0];
}

/**
 * Builds the committed log from the collector records (collector: true), and reports collectors
 * that disagree about a revision both delivered. Returns no log when there are no collectors.
 */
export function buildCommittedLog(watches: readonly WatchRecord[]): { log: CommittedLog | undefined; anomalies: Anomaly[] } {
  const byCollector = new Map<string, WatchRecord[]>();
  for (const w of watches) {
    if (w.collector !== true) continue;
    const list = byCollector.get(w.watcher) ?? [];
    list.push(w);
    byCollector.set(w.watcher, list);
  }
  if (byCollector.size === 0) return { log: undefined, anomalies: [] };
  const views = [...byCollector].map(([name, records]) => viewOf(name, records));
  views.sort((a, b) => b.eventCount - a.eventCount || (a.name < b.name ? -1 : 1));
  const anomalies: Anomaly[] = [];
  const gaps: CollectorGap[] = [];
  const reportedPairs = new Set<string>();
  const revs = [...new Set(views.flatMap((v) => [...v.byRev.keys()]))].sort((a, b) => a - b);
  const events: WatchEventRecord[] = [];
  // The union, revision by revision: the largest delivery is the reference (ties: the collector
  // with more events overall); the others must equal it or be part of it.
  const union = new Map<number, { collector: string; events: readonly WatchEventRecord[] }>();
  for (const rev of revs) {
    let ref: CollectorView | undefined;
    for (const v of views) {
      const n = v.byRev.get(rev)?.events.length ?? 0;
      if (n > 0 && (ref === undefined || n > ref.byRev.get(rev)!.events.length)) ref = v;
    }
    const at = ref!.byRev.get(rev)!;
    events.push(...at.events);
    union.set(rev, { collector: ref!.name, events: at.events });
    for (const v of views) {
      const mine = v === ref ? undefined : v.byRev.get(rev);
      if (mine === undefined) continue;
      const missing = at.events.filter((e) => !mine.keys.has(eventKey(e)));
      const subset = mine.events.every((e) => at.keys.has(eventKey(e)));
      if (subset && missing.length > 0) {
        gaps.push({
          collector: v.name,
          node: v.node,
          kind: 'events',
          from: rev,
          to: rev,
          covered: v.ranges.find(([a, b]) => a <= rev && rev <= b) ?? [rev, rev],
          deliveredBefore: rev,
          deliveredAfter: rev,
          missed: missing.slice(0, MAX_MISSED_EVENTS).map((event) => ({ collector: ref!.name, event })),
        });
      } else if (!subset) {
        const pair = `${ref!.name}|${v.name}`;
        if (reportedPairs.has(pair)) continue;
        reportedPairs.add(pair);
        anomalies.push({
          type: 'collectors-differ',
          message: `collectors ${ref!.name} and ${v.name} differ at revision ${rev}: ${describeEvents(at.events)} vs ${describeEvents(mine.events)}`,
          events: [],
          details: { collectors: [ref!.name, v.name], revision: rev, a: at.events, b: mine.events },
        });
      }
    }
  }
  // Revisions a collector covered and delivered nothing for. Revision 1 is the empty store.
  for (const v of views) {
    const mine = [...v.byRev.keys()].sort((a, b) => a - b);
    for (const range of v.ranges) {
      let from = 0;
      for (let rev = Math.max(range[0], 2); rev <= range[1] + 1; rev++) {
        const owed = rev <= range[1] && !v.byRev.has(rev);
        if (owed && from === 0) from = rev;
        if (owed || from === 0) continue;
        const to = rev - 1;
        const missed: { collector: string; event: WatchEventRecord }[] = [];
        for (let r = from; r <= to && missed.length < MAX_MISSED_EVENTS; r++) {
          const u = union.get(r);
          for (const event of u?.events ?? []) if (missed.length < MAX_MISSED_EVENTS) missed.push({ collector: u!.collector, event });
        }
        const [before] = neighbours(mine, from);
        const [, after] = neighbours(mine, to);
        gaps.push({ collector: v.name, node: v.node, kind: 'revision', from, to, covered: [range[0], range[1]], deliveredBefore: before, deliveredAfter: after, missed });
        from = 0;
      }
    }
  }
  gaps.sort((a, b) => a.from - b.from || (a.collector < b.collector ? -1 : 1));
  let fromRevision = Infinity;
  for (const v of views) {
    const lo = v.fromStart ? 1 : v.ranges[0]?.[0];
    if (lo !== undefined) fromRevision = Math.min(fromRevision, lo);
  }
  const toRevision = revs[revs.length - 1] ?? 0;
  const holes: [number, number][] = [];
  // From revision 1, the first revision with an event is 2 (revision 1 is the empty store).
  let prev = Math.max(fromRevision, 2) - 1;
  for (const rev of revs) {
    if (rev > prev + 1) holes.push([prev + 1, rev - 1]);
    prev = Math.max(prev, rev);
  }
  const coverage: CollectorCoverage[] = views.map((v) => {
    const only = v.ranges.length === 1 ? v.ranges[0]! : undefined;
    const complete = only !== undefined && only[0] <= Math.max(fromRevision, 2) && only[1] >= toRevision;
    return { name: v.name, node: v.node, ranges: v.ranges.map(([a, b]) => [a, b] as const), complete };
  });
  return {
    log: { events, fromRevision, toRevision, holes, collectors: views.map((v) => v.name), coverage, gaps },
    anomalies,
  };
}
