/**
 * What the report draws, computed once from the run: ops (invoke paired with completion),
 * nemesis intervals, node-state segments and the checkers' results in one normalized shape.
 * Everything tolerates missing fields: the checkers' result shape and the harness's node events
 * may carry less than we can show.
 *
 * Example: events [invoke p0 write k 1 @0, nemesis start-partition @5, ok p0 @9, nemesis
 * stop-partition @20] → one op {process 0, start 0, end 9, type ok} and one band
 * {label 'partition', start 5, end 20}.
 */
import type { ClientEvent, HistoryEvent, NemesisEvent } from '../history.js';

export type Verdict = true | false | 'unknown';

export interface ReportAnomaly {
  readonly type: string;
  readonly message: string;
  readonly events: readonly number[];
  readonly key?: string;
  readonly details?: unknown;
}

export interface ReportChecker {
  readonly checker: string;
  readonly valid: Verdict;
  readonly anomalies: readonly ReportAnomaly[];
  readonly stats: Readonly<Record<string, unknown>>;
}

/** A member's state from a time on; `leader`/`term` when known. */
export interface NodeEvent {
  readonly time_ns: number;
  readonly node: string;
  readonly state?: 'up' | 'paused' | 'killed' | 'partitioned' | 'removed' | string;
  readonly leader?: boolean;
  readonly term?: number;
}

export interface ReportOp {
  readonly process: number;
  readonly f: string;
  readonly type: 'ok' | 'fail' | 'info';
  readonly start_ns: number;
  /** Completion time; for an op that never completed, the end of the history. */
  readonly end_ns: number;
  readonly key?: string;
  readonly invoke: number;
  readonly complete?: number;
}

export interface Band {
  readonly label: string;
  readonly start_ns: number;
  readonly end_ns: number;
  readonly value?: unknown;
}

export interface NodeSegment {
  readonly node: string;
  readonly state: string;
  readonly start_ns: number;
  readonly end_ns: number;
  readonly leader: boolean;
  readonly term?: number;
}

/** results.json as the checkers write it (RunResults), or a list of CheckResults. */
export type ResultsInput = { readonly valid?: unknown; readonly checkers?: Readonly<Record<string, unknown>> } | readonly unknown[] | undefined;

export function isClient(e: HistoryEvent): e is ClientEvent {
  return e.process !== 'nemesis';
}

export function pairHistory(history: readonly HistoryEvent[]): { ops: ReportOp[]; end_ns: number } {
  const open = new Map<number, ClientEvent>();
  const ops: ReportOp[] = [];
  let end = 0;
  for (const e of history) end = Math.max(end, e.time_ns);
  for (const e of history) {
    if (!isClient(e)) continue;
    if (e.type === 'invoke') {
      open.set(e.process, e);
      continue;
    }
    const inv = open.get(e.process);
    if (inv === undefined) continue;
    open.delete(e.process);
    const key = inv.key ?? e.key;
    ops.push({ process: e.process, f: inv.f, type: e.type, start_ns: inv.time_ns, end_ns: e.time_ns, ...(key === undefined ? {} : { key }), invoke: inv.index, complete: e.index });
  }
  for (const inv of open.values()) {
    ops.push({ process: inv.process, f: inv.f, type: 'info', start_ns: inv.time_ns, end_ns: end, ...(inv.key === undefined ? {} : { key: inv.key }), invoke: inv.index });
  }
  ops.sort((a, b) => a.start_ns - b.start_ns);
  return { ops, end_ns: end };
}

/** Names of the fault an event starts or stops, e.g. 'start-partition' → start of 'partition'. */
const ENDS: Readonly<Record<string, string>> = { kill: 'restart', pause: 'resume', 'kill-lossy': 'restart' };

function target(v: unknown): string {
  if (v === null || typeof v !== 'object') return '';
  const o = v as Record<string, unknown>;
  const t = o['node'] ?? o['nodes'] ?? o['targets'] ?? o['target'];
  return t === undefined ? '' : Array.isArray(t) ? t.join(',') : String(t);
}

/**
 * Nemesis intervals: 'start-X'…'stop-X', 'kill'…'restart' and 'pause'…'resume' (matched per
 * target when the value names one); an unmatched start lasts to the end; any other nemesis event
 * (a compaction, a heal) is a zero-width band.
 */
export function nemesisBands(history: readonly HistoryEvent[], end_ns: number): Band[] {
  const bands: Band[] = [];
  const open = new Map<string, NemesisEvent[]>();
  for (const e of history) {
    if (isClient(e)) continue;
    const f = e.f;
    const t = target(e.value);
    let startName: string | undefined;
    if (f.startsWith('start-')) startName = f.slice(6);
    else if (ENDS[f] !== undefined) startName = f;
    if (startName !== undefined) {
      const k = `${startName}|${t}`;
      const list = open.get(k) ?? [];
      list.push(e);
      open.set(k, list);
      continue;
    }
    let stopOf: string | undefined;
    if (f.startsWith('stop-')) stopOf = f.slice(5);
    else for (const [s, stop] of Object.entries(ENDS)) if (stop === f && (open.get(`${s}|${t}`)?.length ?? 0) > 0) stopOf = s;
    // The start with the same target, else (a stop that names none, like heal-all) the oldest
    // open start of that fault.
    let list: NemesisEvent[] | undefined;
    if (stopOf !== undefined) {
      const exact = open.get(`${stopOf}|${t}`);
      if (exact !== undefined && exact.length > 0) list = exact;
      else if (t === '') {
        for (const [k, l] of open) if (k.startsWith(`${stopOf}|`) && l.length > 0 && (list === undefined || (l[0]?.time_ns ?? 0) < (list[0]?.time_ns ?? 0))) list = l;
      }
    }
    const start = list?.shift();
    if (start !== undefined && stopOf !== undefined) {
      const st = target(start.value) || t;
      bands.push({ label: `${stopOf}${st === '' ? '' : ` ${st}`}`, start_ns: start.time_ns, end_ns: e.time_ns, ...(start.value === undefined ? {} : { value: start.value }) });
    } else {
      bands.push({ label: `${f}${t === '' ? '' : ` ${t}`}`, start_ns: e.time_ns, end_ns: e.time_ns, ...(e.value === undefined ? {} : { value: e.value }) });
    }
  }
  for (const [k, list] of open) for (const s of list) bands.push({ label: `${k.split('|')[0] ?? ''}${target(s.value) === '' ? '' : ` ${target(s.value)}`}`, start_ns: s.time_ns, end_ns, ...(s.value === undefined ? {} : { value: s.value }) });
  bands.sort((a, b) => a.start_ns - b.start_ns);
  return bands;
}

/** Node events → per-node segments of one state each (up from 0 until the first event). */
export function nodeSegments(events: readonly NodeEvent[], nodes: readonly string[], end_ns: number): NodeSegment[] {
  const names = [...new Set([...nodes, ...events.map((e) => e.node)])];
  const out: NodeSegment[] = [];
  for (const node of names) {
    const mine = events.filter((e) => e.node === node).sort((a, b) => a.time_ns - b.time_ns);
    let cur = { state: 'up', leader: false, term: undefined as number | undefined, start: 0 };
    const close = (t: number): void => {
      if (t > cur.start) out.push({ node, state: cur.state, start_ns: cur.start, end_ns: t, leader: cur.leader, ...(cur.term === undefined ? {} : { term: cur.term }) });
    };
    for (const e of mine) {
      close(e.time_ns);
      cur = { state: e.state ?? cur.state, leader: e.leader ?? cur.leader, term: e.term ?? cur.term, start: e.time_ns };
    }
    close(Math.max(end_ns, cur.start + 1));
  }
  return out;
}

function asVerdict(v: unknown): Verdict {
  return v === true || v === false ? v : 'unknown';
}

function asAnomaly(a: unknown): ReportAnomaly | undefined {
  if (a === null || typeof a !== 'object') return undefined;
  const o = a as Record<string, unknown>;
  const events = Array.isArray(o['events']) ? o['events'].filter((x): x is number => typeof x === 'number') : [];
  return {
    type: typeof o['type'] === 'string' ? o['type'] : 'anomaly',
    message: typeof o['message'] === 'string' ? o['message'] : JSON.stringify(o).slice(0, 300),
    events,
    ...(typeof o['key'] === 'string' ? { key: o['key'] } : {}),
    ...(o['details'] === undefined ? {} : { details: o['details'] }),
  };
}

/** Normalizes results.json (or a list of check results) into one list; never throws. */
export function normalizeResults(results: ResultsInput): ReportChecker[] {
  if (results === undefined || results === null) return [];
  const entries: [string, unknown][] = Array.isArray(results)
    ? (results as readonly unknown[]).map((r, i) => [String((r as Record<string, unknown> | null)?.['checker'] ?? `checker-${i}`), r])
    : Object.entries((results as { checkers?: Record<string, unknown> }).checkers ?? {});
  return entries.map(([name, r]) => {
    const o = (r !== null && typeof r === 'object' ? r : {}) as Record<string, unknown>;
    const anomalies = Array.isArray(o['anomalies']) ? o['anomalies'].map(asAnomaly).filter((a): a is ReportAnomaly => a !== undefined) : [];
    const stats = o['stats'] !== null && typeof o['stats'] === 'object' ? (o['stats'] as Record<string, unknown>) : {};
    return { checker: typeof o['checker'] === 'string' ? o['checker'] : name, valid: asVerdict(o['valid']), anomalies, stats };
  });
}

export function verdictText(v: Verdict): string {
  return v === true ? 'valid' : v === false ? 'INVALID' : 'unknown';
}
