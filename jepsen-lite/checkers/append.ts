/**
 * Elle-style list-append checker (item 27). Appended values are unique per key, so every read
 * of a key (a list) names exactly the txns whose appends it saw, in order; the longest read of
 * a key gives its version order. From that we infer dependency edges between txns:
 *
 * - ww: T1 appended x and T2 appended y right after x in the version order;
 * - wr: T2 read a list ending in x, appended by T1;
 * - rw: T1 read a list that stops just before y, which T2 appended (T2 overwrote what T1 read);
 * - process: T1 and T2 are consecutive ops of one process;
 * - realtime: T1 completed before T2 was invoked (a transitively reduced set of these).
 *
 * A cycle is an anomaly; classified by its edges (Adya): only ww → G0; ww+wr → G1c; exactly one
 * rw → G-single; more → G2-item; a cycle that needs process or realtime edges gets a -process /
 * -realtime suffix (it violates strong session / strict serializability only). Non-cyclic
 * anomalies are found directly: G1a (read a failed txn's append), G1b (read a txn's
 * intermediate append), lost update, duplicate and garbage elements, internal inconsistency and
 * incompatible orders. The verdict is the strongest model none of the anomalies rules out.
 *
 * Example: T1 = [append x 1, r y []], T2 = [append y 2, r x []], both ok: T1 read y before T2's
 * append (T1 →rw T2) and T2 read x before T1's (T2 →rw T1): a G2-item cycle, serializable is
 * ruled out, snapshot isolation is not.
 */
import type { HistoryEvent, MicroOp } from '../history.js';
import { TypedGraph } from './graph.js';
import { toOps, witness, type Op } from './ops.js';
import { AnomalySink, type CheckResult } from './result.js';

export const WW = 1;
export const WR = 2;
export const RW = 4;
export const PROCESS = 8;
export const RT = 16;
const DATA = WW | WR | RW;
const LABELS: readonly [number, string][] = [
  [WW, 'ww'],
  [WR, 'wr'],
  [RW, 'rw'],
  [PROCESS, 'process'],
  [RT, 'realtime'],
];

/** Consistency models from strongest to weakest, and the anomalies each forbids. */
export const MODELS = ['strict-serializable', 'strong-session-serializable', 'serializable', 'snapshot-isolation', 'repeatable-read', 'read-committed', 'read-uncommitted'] as const;
export type Model = (typeof MODELS)[number];

const ALL: readonly Model[] = MODELS;
const FORBIDDEN_BY: Readonly<Record<string, readonly Model[]>> = {
  G0: ALL,
  G1a: ALL.slice(0, 6),
  G1b: ALL.slice(0, 6),
  G1c: ALL.slice(0, 6),
  'lost-update': ['strict-serializable', 'strong-session-serializable', 'serializable', 'snapshot-isolation', 'repeatable-read'],
  'G-single': ['strict-serializable', 'strong-session-serializable', 'serializable', 'snapshot-isolation', 'repeatable-read'],
  'G2-item': ['strict-serializable', 'strong-session-serializable', 'serializable', 'repeatable-read'],
  'G0-process': ['strict-serializable', 'strong-session-serializable'],
  'G1c-process': ['strict-serializable', 'strong-session-serializable'],
  'G-single-process': ['strict-serializable', 'strong-session-serializable'],
  'G2-item-process': ['strict-serializable', 'strong-session-serializable'],
  'G0-realtime': ['strict-serializable'],
  'G1c-realtime': ['strict-serializable'],
  'G-single-realtime': ['strict-serializable'],
  'G2-item-realtime': ['strict-serializable'],
  // These mean the history is not a history of any of the models.
  'duplicate-elements': ALL,
  'garbage-elements': ALL,
  'internal-inconsistency': ALL,
  'incompatible-order': ALL,
};

export interface AppendOptions {
  /** The model the run must satisfy; default strict-serializable. */
  readonly target?: Model;
  /** Start edges tried per component and cycle class (bounds the work on bad histories). */
  readonly maxCycleSearchesPerComponent?: number;
}

interface Txn {
  readonly node: number;
  readonly op: Op;
  readonly ops: readonly MicroOp[];
  readonly name: string;
}

interface Writer {
  readonly op: Op;
  /** Position of the append among the txn's micro-ops. */
  readonly pos: number;
}

interface ReadRef {
  readonly op: Op;
  readonly key: string;
  readonly list: readonly number[];
  readonly pos: number;
}

export function checkAppend(events: readonly HistoryEvent[], opts: AppendOptions = {}): CheckResult & { verdict: Model | 'none'; cycles: string[] } {
  const started = performance.now();
  const sink = new AnomalySink();
  const ops = toOps(events, (f) => f === 'txn').filter((o) => (o.invoke.txn ?? []).every((m) => m[0] === 'append' || m[0] === 'r'));
  const txnOps = (op: Op): readonly MicroOp[] => (op.type === 'ok' ? (op.complete?.txn ?? op.invoke.txn ?? []) : (op.invoke.txn ?? []));
  const tname = (op: Op): string => `T${op.invoke.index}`;

  // Writers of every (key, value), from every txn whatever its outcome.
  const writers = new Map<string, Map<number, Writer>>();
  for (const op of ops) {
    txnOps(op).forEach((m, pos) => {
      if (m[0] !== 'append') return;
      let byValue = writers.get(m[1]);
      if (byValue === undefined) writers.set(m[1], (byValue = new Map()));
      if (byValue.has(m[2])) sink.unknown(`value ${m[2]} appended to ${m[1]} twice (index ${op.invoke.index}): appends must be unique`);
      else byValue.set(m[2], { op, pos });
    });
  }
  const writerOf = (k: string, v: number): Writer | undefined => writers.get(k)?.get(v);

  // Reads of ok txns, with the direct checks.
  const reads: ReadRef[] = [];
  for (const op of ops) {
    if (op.type !== 'ok') continue;
    const micro = txnOps(op);
    const known = new Map<string, number[]>();
    const own = new Map<string, number[]>();
    micro.forEach((m, pos) => {
      if (m[0] === 'append') {
        const a = own.get(m[1]) ?? [];
        a.push(m[2]);
        own.set(m[1], a);
        const kn = known.get(m[1]);
        if (kn !== undefined) kn.push(m[2]);
        return;
      }
      if (m[0] !== 'r') return;
      const key = m[1];
      const list = m[2] === null ? [] : Array.isArray(m[2]) ? m[2] : undefined;
      if (list === undefined) return;
      reads.push({ op, key, list, pos });
      const seen = new Set<number>();
      for (const v of list) {
        if (seen.has(v)) {
          sink.add({ type: 'duplicate-elements', key, message: `${tname(op)} read ${key} = ${fmt(list)}, in which ${v} appears more than once`, events: witness(op) });
          break;
        }
        seen.add(v);
      }
      for (const v of list) {
        const w = writerOf(key, v);
        if (w === undefined) {
          sink.add({ type: 'garbage-elements', key, message: `${tname(op)} read ${key} = ${fmt(list)}, but ${v} was never appended to ${key}`, events: witness(op) });
        } else if (w.op.type === 'fail') {
          sink.add({ type: 'G1a', key, message: `${tname(op)} read ${v} from ${key}, appended by ${tname(w.op)} which failed (aborted read)`, events: [...witness(op), ...witness(w.op)] });
        }
      }
      const last = list[list.length - 1];
      if (last !== undefined) {
        const w = writerOf(key, last);
        if (w !== undefined && w.op !== op && w.op.type !== 'fail') {
          const later = txnOps(w.op).slice(w.pos + 1).find((x) => x[0] === 'append' && x[1] === key);
          if (later !== undefined) {
            sink.add({ type: 'G1b', key, message: `${tname(op)} read ${key} = ${fmt(list)} ending in ${last}, an intermediate append of ${tname(w.op)} (it later appended ${String(later[2])})`, events: [...witness(op), ...witness(w.op)] });
          }
        }
      }
      // Internal consistency: what this txn already knows of the key, plus its own appends.
      const kn = known.get(key);
      const mine = own.get(key) ?? [];
      const ok = kn !== undefined ? sameList(kn, list) : endsWith(list, mine);
      if (!ok) {
        sink.add({
          type: 'internal-inconsistency',
          key,
          message: `${tname(op)} read ${key} = ${fmt(list)} but expected ${kn !== undefined ? fmt(kn) : `a list ending in its own appends ${fmt(mine)}`}`,
          events: witness(op),
        });
      }
      known.set(key, [...list]);
    });
  }

  // Version order per key: the longest read; every read must be a prefix of it.
  const order = new Map<string, { list: readonly number[]; read: ReadRef }>();
  for (const r of reads) {
    const cur = order.get(r.key);
    if (cur === undefined || r.list.length > cur.list.length) order.set(r.key, { list: r.list, read: r });
  }
  for (const r of reads) {
    const longest = order.get(r.key)!;
    if (!isPrefix(r.list, longest.list)) {
      sink.add({
        type: 'incompatible-order',
        key: r.key,
        message: `${tname(r.op)} read ${r.key} = ${fmt(r.list)} and ${tname(longest.read.op)} read ${fmt(longest.list)}: neither is a prefix of the other`,
        events: [...witness(r.op), ...witness(longest.read.op)],
      });
    }
  }

  // Lost update: two committed txns read the same version of a key and both appended to it.
  const firstReadThenAppend = new Map<string, Map<number, Op[]>>();
  for (const op of ops) {
    if (op.type !== 'ok') continue;
    const micro = txnOps(op);
    const firstRead = new Map<string, number>();
    const appended = new Set<string>();
    for (const m of micro) {
      if (m[0] === 'append') appended.add(m[1]);
      else if (m[0] === 'r' && Array.isArray(m[2]) && !firstRead.has(m[1]) && !appended.has(m[1])) firstRead.set(m[1], m[2].length);
    }
    for (const [k, len] of firstRead) {
      if (!appended.has(k)) continue;
      let byLen = firstReadThenAppend.get(k);
      if (byLen === undefined) firstReadThenAppend.set(k, (byLen = new Map()));
      const list = byLen.get(len) ?? [];
      list.push(op);
      byLen.set(len, list);
    }
  }
  for (const [k, byLen] of firstReadThenAppend) {
    for (const [len, list] of byLen) {
      if (list.length < 2) continue;
      sink.add({
        type: 'lost-update',
        key: k,
        message: `${list.map(tname).join(', ')} all read version ${len} of ${k} (length ${len}) and all appended to it`,
        events: list.flatMap(witness),
      });
    }
  }

  // The graph: ok txns, and info txns whose appends someone observed (they committed).
  const observed = new Set<Op>();
  for (const [k, o] of order) for (const v of o.list) {
    const w = writerOf(k, v);
    if (w !== undefined && w.op.type === 'info') observed.add(w.op);
  }
  const txns: Txn[] = [];
  const nodeOf = new Map<Op, number>();
  for (const op of ops) {
    if (op.type === 'ok' || observed.has(op)) {
      nodeOf.set(op, txns.length);
      txns.push({ node: txns.length, op, ops: txnOps(op), name: tname(op) });
    }
  }
  const g = new TypedGraph(txns.length);
  const why = new Map<number, string>();
  const explain = (u: number, v: number, bit: number, text: string): void => {
    if (g.add(u, v, bit) || !why.has((u * txns.length + v) * 32 + bit)) why.set((u * txns.length + v) * 32 + bit, text);
  };
  const nodeOfValue = (k: string, v: number): number | undefined => {
    const w = writerOf(k, v);
    return w === undefined ? undefined : nodeOf.get(w.op);
  };
  for (const [k, o] of order) {
    for (let i = 0; i + 1 < o.list.length; i++) {
      const a = nodeOfValue(k, o.list[i]!);
      const b = nodeOfValue(k, o.list[i + 1]!);
      if (a !== undefined && b !== undefined && a !== b) explain(a, b, WW, `${txns[b]!.name} appended ${o.list[i + 1]} after ${txns[a]!.name}'s ${o.list[i]} to ${k}`);
    }
  }
  for (const r of reads) {
    const t = nodeOf.get(r.op);
    if (t === undefined) continue;
    const last = r.list[r.list.length - 1];
    if (last !== undefined) {
      const w = nodeOfValue(r.key, last);
      if (w !== undefined && w !== t) explain(w, t, WR, `${txns[t]!.name} read ${last} appended by ${txns[w]!.name} to ${r.key}`);
    }
    const full = order.get(r.key)!.list;
    if (r.list.length < full.length && isPrefix(r.list, full)) {
      const nextV = full[r.list.length]!;
      const w = nodeOfValue(r.key, nextV);
      if (w !== undefined && w !== t) explain(t, w, RW, `${txns[t]!.name} read ${r.key} = ${fmt(r.list)}, before ${nextV} which ${txns[w]!.name} appended`);
    }
  }
  // Process and realtime edges, the latter transitively reduced with a frontier of the
  // completed txns not yet covered by a later one.
  const lastOfProcess = new Map<number, number>();
  let frontier: number[] = [];
  const predsAtInvoke = new Map<number, number[]>();
  const evIndex: { at: number; node: number; invoke: boolean }[] = [];
  for (const t of txns) {
    evIndex.push({ at: t.op.invoke.index, node: t.node, invoke: true });
    if (t.op.type === 'ok' && t.op.complete !== undefined) evIndex.push({ at: t.op.complete.index, node: t.node, invoke: false });
  }
  evIndex.sort((a, b) => a.at - b.at);
  for (const e of evIndex) {
    const t = txns[e.node]!;
    if (e.invoke) {
      predsAtInvoke.set(e.node, frontier);
      for (const p of frontier) {
        const pt = txns[p]!;
        explain(p, e.node, RT, `${pt.name} completed (index ${pt.op.complete?.index}) before ${t.name} began (index ${t.op.invoke.index})`);
      }
      const prev = lastOfProcess.get(t.op.process);
      if (prev !== undefined) explain(prev, e.node, PROCESS, `${txns[prev]!.name} and ${t.name} are consecutive in process ${t.op.process}`);
      lastOfProcess.set(t.op.process, e.node);
    } else {
      const preds = new Set(predsAtInvoke.get(e.node) ?? []);
      frontier = frontier.filter((p) => !preds.has(p));
      frontier.push(e.node);
    }
  }

  // Cycles, from the weakest edge set up so each cycle is reported at its worst class.
  const cycles: string[] = [];
  const maxTries = opts.maxCycleSearchesPerComponent ?? 50;
  const label = (u: number, v: number, allowed: number, forced?: number): number => {
    const m = g.mask(u, v) & allowed;
    if (forced !== undefined && (m & forced) !== 0) return forced;
    for (const [bit] of LABELS) if ((m & bit) !== 0) return bit;
    return 0;
  };
  const searchClass = (allowed: number, startBit: number, excludeBits: number): void => {
    const { comp, components } = g.scc(allowed);
    for (const members of components) {
      const c = comp[members[0]!]!;
      let bestCycle: number[] | undefined;
      let tries = 0;
      outer: for (const u of members) {
        for (const [v, m] of g.out[u]!) {
          if (comp[v] !== c || (m & startBit) === 0 || (m & excludeBits) !== 0) continue;
          if (++tries > maxTries) break outer;
          const path = g.shortestPath(v, u, allowed, comp, c);
          if (path !== undefined && (bestCycle === undefined || path.length < bestCycle.length)) bestCycle = path;
          if (bestCycle !== undefined && bestCycle.length <= 2) break outer;
        }
      }
      if (bestCycle === undefined) continue;
      // path is v ... u; the cycle is u → v → ... → u.
      const cyc = [bestCycle[bestCycle.length - 1]!, ...bestCycle];
      reportCycle(cyc, allowed, startBit);
    }
  };
  const reportCycle = (cyc: number[], allowed: number, startBit: number): void => {
    let rw = 0;
    let wr = false;
    let proc = false;
    let rt = false;
    const steps: string[] = [];
    for (let i = 0; i + 1 < cyc.length; i++) {
      const u = cyc[i]!;
      const v = cyc[i + 1]!;
      const bit = label(u, v, allowed, i === 0 ? startBit : undefined);
      if (bit === RW) rw++;
      if (bit === WR) wr = true;
      if (bit === PROCESS) proc = true;
      if (bit === RT) rt = true;
      const name = LABELS.find(([b]) => b === bit)?.[1] ?? '?';
      steps.push(`${txns[u]!.name} < ${txns[v]!.name} because ${why.get((u * txns.length + v) * 32 + bit) ?? '?'} (${name})`);
    }
    const base = rw === 0 ? (wr ? 'G1c' : 'G0') : rw === 1 ? 'G-single' : 'G2-item';
    const type = rt ? `${base}-realtime` : proc ? `${base}-process` : base;
    const text = `${type}: ${steps.join('; ')}`;
    cycles.push(text);
    const nodes = cyc.slice(0, -1);
    sink.add({ type, message: text, events: nodes.flatMap((n) => witness(txns[n]!.op)), details: { cycle: nodes.map((n) => txns[n]!.name), steps } });
  };
  if (txns.length > 0) {
    searchClass(WW, WW, 0);
    searchClass(WW | WR, WR, WW);
    // G-single first (a cycle with one rw edge closes over ww/wr edges), then G2-item.
    const { comp: dcomp, components: dcomps } = g.scc(DATA);
    for (const members of dcomps) {
      const c = dcomp[members[0]!]!;
      let single: number[] | undefined;
      let multi: number[] | undefined;
      let tries = 0;
      outer: for (const u of members) {
        for (const [v, m] of g.out[u]!) {
          if (dcomp[v] !== c || (m & RW) === 0 || (m & (WW | WR)) !== 0) continue;
          if (++tries > maxTries) break outer;
          const p1 = g.shortestPath(v, u, WW | WR, dcomp, c);
          if (p1 !== undefined) {
            if (single === undefined || p1.length < single.length) single = p1;
            if (single.length <= 2) break outer;
            continue;
          }
          if (multi === undefined) multi = g.shortestPath(v, u, DATA, dcomp, c);
        }
      }
      const path = single ?? multi;
      if (path !== undefined) reportCycle([path[path.length - 1]!, ...path], DATA, RW);
    }
    searchClass(DATA | PROCESS, PROCESS, DATA);
    searchClass(DATA | PROCESS | RT, RT, DATA | PROCESS);
  }

  // Verdict: the strongest model no anomaly rules out.
  const ruledOut = new Set<Model>();
  for (const type of sink.counts.keys()) for (const m of FORBIDDEN_BY[type] ?? ALL) ruledOut.add(m);
  const verdict: Model | 'none' = MODELS.find((m) => !ruledOut.has(m)) ?? 'none';
  const target = opts.target ?? 'strict-serializable';
  const base = sink.result('append', {
    txns: ops.length,
    ok: ops.filter((o) => o.type === 'ok').length,
    nodes: txns.length,
    edges: g.out.reduce((n, m) => n + m.size, 0),
    verdict,
    ms: Math.round(performance.now() - started),
  });
  const valid = ruledOut.has(target) ? false : sink.unknownReasons.length > 0 ? 'unknown' : true;
  return { ...base, valid, verdict, cycles };
}

function fmt(list: readonly number[]): string {
  return list.length <= 8 ? `[${list.join(' ')}]` : `[${list.slice(0, 3).join(' ')} … ${list.slice(-4).join(' ')}] (${list.length})`;
}

function isPrefix(a: readonly number[], b: readonly number[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && isPrefix(a, b);
}

function endsWith(list: readonly number[], suffix: readonly number[]): boolean {
  if (suffix.length > list.length) return false;
  for (let i = 0; i < suffix.length; i++) if (list[list.length - suffix.length + i] !== suffix[i]) return false;
  return true;
}
