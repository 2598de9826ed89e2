/**
 * The ground truth of what was committed: the end-of-run collectors (item 10) watch every key
 * from revision 1 to the final revision, one per member. Their event sequences must be
 * identical (item 26); the first collector's sequence is then the committed-event log that the
 * register, watch and lease checkers compare against.
 *
 * Example: collectors c-n1 and c-n2 both deliver [PUT a=1 @2, PUT b=1 @3, DELETE a @4]; the log
 * is those three events, fromRevision 1 (complete), toRevision 4.
 */
import type { WatchEventRecord, WatchRecord } from '../history.js';
import type { Anomaly } from './result.js';

export interface CommittedLog {
  /** All committed events in revision order (within a revision, in the order applied). */
  readonly events: readonly WatchEventRecord[];
  /** Lowest revision the log covers: 1 when the collector watched from the start. */
  readonly fromRevision: number;
  /** Highest event revision in the log (0 when empty). */
  readonly toRevision: number;
  /**
   * Revision ranges [from, to] the log misses. Every revision has at least one event (a write
   * that changes nothing does not create a revision), so a jump in an all-keys collector's
   * revisions is a hole: a reopened collector canceled as compacted, say.
   */
  readonly holes: readonly (readonly [number, number])[];
  /** The collectors that agreed (watcher names). */
  readonly collectors: readonly string[];
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

/**
 * Builds the committed log from the collector records (collector: true) and reports every
 * disagreement between collectors. Returns no log when there are no collectors.
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
  const seqs: { name: string; events: WatchEventRecord[]; complete: boolean }[] = [];
  for (const [name, records] of byCollector) {
    const events: WatchEventRecord[] = [];
    let complete = false;
    records.forEach((r, i) => {
      const compacted = r.responses.some((resp) => resp.canceled && resp.compact_revision > 0);
      if (i === 0) complete = r.start_revision <= 1 && !compacted;
      for (const { event } of deliveredEvents(r)) {
        const last = events[events.length - 1];
        // A collector that reconnected may repeat its last revision; keep one copy.
        if (last !== undefined && event.mod_revision < last.mod_revision) continue;
        if (last !== undefined && eventKey(last) === eventKey(event)) continue;
        events.push(event);
      }
    });
    seqs.push({ name, events, complete });
  }
  seqs.sort((a, b) => b.events.length - a.events.length || (a.name < b.name ? -1 : 1));
  const anomalies: Anomaly[] = [];
  const ref = seqs[0];
  if (ref === undefined) return { log: undefined, anomalies };
  for (const other of seqs.slice(1)) {
    const n = Math.min(ref.events.length, other.events.length);
    let i = 0;
    while (i < n && eventKey(ref.events[i]!) === eventKey(other.events[i]!)) i++;
    if (i < n || ref.events.length !== other.events.length) {
      anomalies.push({
        type: 'collectors-differ',
        message:
          i < n
            ? `collectors ${ref.name} and ${other.name} differ at event ${i}: ${eventKey(ref.events[i]!)} vs ${eventKey(other.events[i]!)}`
            : `collector ${other.name} has ${other.events.length} events, ${ref.name} has ${ref.events.length}`,
        events: [],
        details: { collectors: [ref.name, other.name], position: i, a: ref.events[i], b: other.events[i] },
      });
    }
  }
  const first = ref.events[0];
  const last = ref.events[ref.events.length - 1];
  const holes: [number, number][] = [];
  for (let i = 1; i < ref.events.length; i++) {
    const a = ref.events[i - 1]!.mod_revision;
    const b = ref.events[i]!.mod_revision;
    if (b > a + 1) holes.push([a + 1, b - 1]);
  }
  // From revision 1, the first revision with an event is 2 (revision 1 is the empty store).
  if (ref.complete && first !== undefined && first.mod_revision > 2) holes.unshift([2, first.mod_revision - 1]);
  return {
    log: {
      events: ref.events,
      fromRevision: ref.complete ? 1 : (first?.mod_revision ?? Infinity),
      toRevision: last?.mod_revision ?? 0,
      holes,
      collectors: seqs.map((s) => s.name),
    },
    anomalies,
  };
}
