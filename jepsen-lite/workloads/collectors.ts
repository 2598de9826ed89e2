/**
 * Collectors (JEPSEN-LITE.md item 10): one watcher per member over every key, from revision 1 to
 * the final revision, recorded with `collector: true`. Their event sequences are the ground truth
 * the checkers compare against (checkers/committed-log.ts), and they resolve indeterminate writes.
 *
 * When they start: etcd cancels a watch whose start revision was compacted, so a collector
 * opened in the final phase from revision 1 is canceled once anything compacted (the watch
 * workload compacts every few hundred ms; the admin nemesis compacts too). So the collectors
 * start with the workload, before any compaction, and follow the run live. A collector whose
 * stream breaks (its member killed, paused, partitioned) reopens on the same member from
 * last_seen + 1 once the member answers again; each (re)opening is one WatchRecord of the same
 * watcher name, and the committed log glues them. The watch workload only compacts below every
 * collector's progress (`safeCompactRevision`), so its compactions never cut a collector.
 *
 * On a cluster whose revision 1 is already compacted (reused, not fresh), the first opening is
 * canceled and the collector starts again after the compact revision: the log is then partial
 * (committed-log.ts marks it so), but the same on every member.
 *
 * A compaction we did not make (the admin nemesis) can still pass a down member's collector.
 * Its reopening is then canceled as compacted and its sequence has a gap it cannot fill: that
 * collector is left out of the records (a hole in what we saw is not a disagreement between
 * members), unless every collector has one, in which case all are recorded and the checkers see
 * the compacted cancel and report the ground truth incomplete.
 *
 * A member that is not up when the run ends (removed by the member nemesis, or refusing to
 * restart after the disk nemesis) stopped delivering early: its collector's log is a prefix.
 * That collector is left out of the records too (a short log is not a disagreement), unless no
 * member is up, in which case the checkers compare only where collectors overlap.
 */
import type { EtcdClient, KeyValue, WatchResponse } from '../../src/client/index.js';
import type { WatchEventRecord, WatchRecord, WatchResponseRecord } from '../history.js';
import type { RunContext } from '../types.js';
import { Clients, sleep } from './common.js';

/** Every key: key "\0" with range_end "\0". */
export const ALL_KEYS = '\u0000';

const MAX_REOPENS = 10_000;

function kvValue(kv: KeyValue): string {
  return kv.value.toString('utf8');
}

/** Converts a client watch response into the history's record shape (item 23). */
export function toResponseRecord(r: WatchResponse, timeNs: number): WatchResponseRecord {
  const events: WatchEventRecord[] = r.events.map((e) => {
    const base = {
      type: e.type === 'put' ? ('PUT' as const) : ('DELETE' as const),
      key: e.kv.key.toString('utf8'),
      value: e.type === 'put' ? kvValue(e.kv) : null,
      mod_revision: e.kv.modRevision,
      create_revision: e.kv.createRevision,
      version: e.kv.version,
    };
    const lease = e.kv.lease !== 0n ? { lease: e.kv.lease.toString() } : {};
    const prev =
      e.prevKv === undefined
        ? {}
        : { prev_kv: { key: e.prevKv.key.toString('utf8'), value: kvValue(e.prevKv), mod_revision: e.prevKv.modRevision, create_revision: e.prevKv.createRevision, version: e.prevKv.version } };
    return { ...base, ...lease, ...prev };
  });
  return {
    time_ns: timeNs,
    revision: r.header.revision,
    progress_notify: isProgress(r),
    canceled: r.canceled,
    compact_revision: r.compactRevision,
    ...(r.fragment ? { fragment: true } : {}),
    events,
  };
}

/** A progress notification: no events, not the created or canceled notice. */
export function isProgress(r: WatchResponse): boolean {
  return r.events.length === 0 && !r.created && !r.canceled;
}

interface CollectorState {
  readonly node: string;
  readonly watcher: string;
  readonly records: WatchRecord[];
  /** Highest revision this collector has seen everything up to. */
  progress: number;
  /** Highest event revision delivered. */
  lastEvent: number;
  /** A reopening was canceled as compacted: the sequence has a gap. */
  gap: boolean;
  stream: ReturnType<EtcdClient['watch']> | undefined;
}

export class Collectors {
  private readonly states: CollectorState[] = [];
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: Clients;

  constructor(private readonly ctx: RunContext) {
    this.clients = new Clients(ctx);
  }

  /** Opens one collector per member, from revision 1. Call before any compaction. */
  start(): void {
    if (this.loops.length > 0) return;
    for (const n of this.ctx.db.nodes) {
      const s: CollectorState = { node: n.name, watcher: `collector-${n.name}`, records: [], progress: 0, lastEvent: 0, gap: false, stream: undefined };
      this.states.push(s);
      this.loops.push(this.follow(s));
    }
  }

  /** Revisions every collector has passed: compacting at or below it cuts none of them. */
  safeCompactRevision(): number {
    let min = Infinity;
    for (const s of this.states) if (!s.gap && this.ctx.db.state(s.node) !== 'removed') min = Math.min(min, s.progress);
    return Number.isFinite(min) ? min : 0;
  }

  private async follow(s: CollectorState): Promise<void> {
    for (let attempt = 0; attempt < MAX_REOPENS && !this.stopping && !s.gap; attempt++) {
      const state = this.ctx.db.state(s.node);
      if (state === 'removed') return;
      if (state !== 'up') {
        await sleep(200);
        continue;
      }
      const start = s.lastEvent + 1;
      const responses: WatchResponseRecord[] = [];
      const record: WatchRecord = {
        watcher: s.watcher,
        node: s.node,
        time_ns: this.ctx.recorder.now(),
        key: ALL_KEYS,
        range_end: ALL_KEYS,
        start_revision: start,
        prev_kv: true,
        progress_notify: true,
        collector: true,
        responses,
      };
      let stream: ReturnType<EtcdClient['watch']>;
      try {
        stream = this.clients.of(s.node).watch();
      } catch {
        await sleep(200);
        continue;
      }
      s.stream = stream;
      let created = false;
      try {
        stream.create({ key: ALL_KEYS, rangeEnd: ALL_KEYS, startRevision: start, prevKv: true, progressNotify: true });
        for await (const r of stream) {
          const now = this.ctx.recorder.now();
          if (r.created && !r.canceled) {
            created = true;
            continue;
          }
          responses.push(toResponseRecord(r, now));
          for (const e of r.events) s.lastEvent = Math.max(s.lastEvent, e.kv.modRevision);
          s.progress = Math.max(s.progress, s.lastEvent, isProgress(r) ? r.header.revision : 0);
          if (r.canceled) {
            // Compacted before this collector saw anything (a reused cluster): start after the
            // compaction revision, and the log says it is not complete. Not at it: a delete at
            // exactly that revision went with the compaction (its tombstone was the key's last
            // record), so a collector opened there would miss an event every member has
            // applied. Compacted after it saw events: a gap it cannot fill.
            if (r.compactRevision > 0 && s.lastEvent === 0 && s.records.length === 0) s.lastEvent = r.compactRevision;
            else if (r.compactRevision > 0) s.gap = true;
            break;
          }
        }
      } catch {
        // The stream broke (member down, connection cut): reopen from last_seen + 1.
      } finally {
        stream.close();
        s.stream = undefined;
      }
      if (created || responses.length > 0) s.records.push(record);
      if (!this.stopping) await sleep(200);
    }
  }

  /**
   * Waits (at most `timeoutMs`) until every collector has seen revision `finalRevision`, asking
   * each member for progress notifications, then stops them and records their watch requests.
   */
  async finish(finalRevision: number, timeoutMs = 15_000): Promise<{ caughtUp: string[]; behind: string[]; dropped: string[] }> {
    const deadline = performance.now() + timeoutMs;
    for (let i = 0; i < 10_000 && performance.now() < deadline; i++) {
      const behind = this.states.filter((s) => !s.gap && s.progress < finalRevision && this.ctx.db.state(s.node) !== 'removed');
      if (behind.length === 0) break;
      for (const s of behind) {
        try {
          s.stream?.requestProgress();
        } catch {
          // closed between checks: it reopens
        }
      }
      await sleep(100);
    }
    this.stopping = true;
    for (const s of this.states) s.stream?.close();
    await Promise.all(this.loops);
    const intact = this.states.filter((s) => !s.gap);
    const up = intact.filter((s) => this.ctx.db.state(s.node) === 'up');
    const keep = up.length > 0 ? up : intact.length > 0 ? intact : this.states;
    for (const s of keep) for (const r of s.records) this.ctx.recorder.watch(r);
    return {
      caughtUp: this.states.filter((s) => s.progress >= finalRevision).map((s) => s.watcher),
      behind: this.states.filter((s) => s.progress < finalRevision).map((s) => s.watcher),
      dropped: this.states.filter((s) => !keep.includes(s)).map((s) => s.watcher),
    };
  }
}

/** The highest header revision any member reports on a linearizable read (0 if none answers). */
export async function finalRevision(ctx: RunContext, clients: Clients): Promise<number> {
  let max = 0;
  for (const n of ctx.db.nodes) {
    if (ctx.db.state(n.name) !== 'up') continue;
    try {
      const r = await clients.of(n.name).range({ key: ALL_KEYS, rangeEnd: ALL_KEYS, countOnly: true });
      max = Math.max(max, r.header.revision);
    } catch {
      // a member that cannot serve: the others decide
    }
  }
  return max;
}
