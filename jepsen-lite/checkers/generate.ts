/**
 * Generators of valid random histories, for the checkers' tests and bench (item 38). Each op
 * gets a call time, a linearization point strictly inside its interval and a return time; the
 * effects are applied in linearization-point order to a simple model, so the history is
 * linearizable (strict serializable for txns) by construction. Everything comes from one seed.
 */
import { Prng } from '../../src/util/prng.js';
import type { ClientEvent, MicroOp, WatchEventRecord, WatchRecord } from '../history.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Ev = Mutable<ClientEvent>;

export interface RegisterGenOptions {
  readonly seed: number;
  /** Total ops (approximate: whole keys are generated). */
  readonly ops: number;
  readonly opsPerKey?: number;
  readonly processesPerKey?: number;
  /** Keys in flight at once. */
  readonly concurrentKeys?: number;
  /** Probability that an op ends `info` (its process retires). */
  readonly infoRate?: number;
  readonly maxInfoPerKey?: number;
}

export interface GeneratedHistory {
  readonly events: ClientEvent[];
  /** One end-of-run collector record with every committed event. */
  readonly watches: WatchRecord[];
}

interface Skeleton {
  key: string;
  process: number;
  f: 'read' | 'write' | 'cas';
  value: number | null;
  expected: number | null;
  call: number;
  lin: number;
  ret: number;
  info: boolean;
  /** info ops: whether the effect happened. */
  applied: boolean;
}

/** A linearizable register history over many keys; see RegisterGenOptions. */
export function generateRegisterHistory(o: RegisterGenOptions): GeneratedHistory {
  const rng = new Prng(o.seed);
  const opsPerKey = o.opsPerKey ?? 300;
  const procs = o.processesPerKey ?? 5;
  const concurrent = o.concurrentKeys ?? 10;
  const infoRate = o.infoRate ?? 0.01;
  const maxInfo = o.maxInfoPerKey ?? 5;
  const nKeys = Math.max(1, Math.ceil(o.ops / opsPerKey));
  const skels: Skeleton[] = [];
  let nextProcess = 0;
  let nextValue = 1;
  // One key's ops take about keySpan ns; keys start staggered so `concurrent` overlap.
  const meanOpNs = 2_000_000;
  const keySpan = (opsPerKey / procs) * meanOpNs;
  for (let k = 0; k < nKeys; k++) {
    const key = `r${k}`;
    const start = Math.floor((k * keySpan) / concurrent);
    const written: number[] = [];
    let budget = opsPerKey;
    let infos = 0;
    const clocks: { process: number; t: number }[] = [];
    for (let p = 0; p < procs; p++) clocks.push({ process: nextProcess++, t: start + rng.int(meanOpNs) });
    while (budget > 0) {
      // The process whose clock is earliest issues next (keeps generation order ~ time order).
      let c = clocks[0]!;
      for (const x of clocks) if (x.t < c.t) c = x;
      const call = c.t;
      const lin = call + 1 + rng.int(meanOpNs / 2);
      const ret = lin + 1 + rng.int(meanOpNs / 2);
      const roll = rng.float();
      const f = roll < 0.5 ? 'read' : roll < 0.8 ? 'write' : 'cas';
      const info = f !== 'read' && infos < maxInfo && rng.chance(infoRate);
      const value = f === 'read' ? null : nextValue++;
      const expected = f === 'cas' ? (written.length === 0 || rng.chance(0.1) ? null : written[written.length - 1 - rng.int(Math.min(3, written.length))]!) : null;
      if (value !== null) written.push(value);
      skels.push({ key, process: c.process, f, value, expected, call, lin, ret, info, applied: !info || rng.chance(0.5) });
      budget--;
      if (info) {
        infos++;
        c.process = nextProcess++;
        c.t = ret + rng.int(meanOpNs);
      } else c.t = ret + rng.int(meanOpNs / 4);
    }
  }
  // Apply effects in linearization order, one global revision counter.
  const byLin = skels.map((_, i) => i).sort((a, b) => skels[a]!.lin - skels[b]!.lin);
  const state = new Map<string, { value: number; mod: number; create: number; version: number }>();
  let revision = 1;
  const results = new Map<number, Partial<Ev>>();
  const committed: WatchEventRecord[] = [];
  for (const i of byLin) {
    const s = skels[i]!;
    const cur = state.get(s.key);
    if (s.f === 'read') {
      results.set(i, { value: cur?.value ?? null, revision, ...(cur === undefined ? {} : { mod_revision: cur.mod, version: cur.version }) });
      continue;
    }
    const matches = s.f === 'write' || (s.expected === null ? cur === undefined : cur?.value === s.expected);
    if (!matches) {
      results.set(i, { error: 'cas_mismatch' });
      continue;
    }
    if (!s.applied) continue;
    revision++;
    const next = { value: s.value!, mod: revision, create: cur?.create ?? revision, version: (cur?.version ?? 0) + 1 };
    state.set(s.key, next);
    committed.push({ type: 'PUT', key: s.key, value: String(next.value), mod_revision: revision, create_revision: next.create, version: next.version });
    results.set(i, { revision, mod_revision: revision, version: next.version });
  }
  const evs: Ev[] = [];
  skels.forEach((s, i) => {
    const base = { index: 0, process: s.process, f: s.f, key: s.key } as const;
    evs.push({ ...base, time_ns: s.call, type: 'invoke', ...(s.f === 'read' ? {} : { value: s.value }), ...(s.f === 'cas' ? { expected: s.expected } : {}) });
    const r = results.get(i) ?? {};
    if (s.info) evs.push({ ...base, time_ns: s.ret, type: 'info', error: 'timeout' });
    else if (r.error !== undefined) evs.push({ ...base, time_ns: s.ret, type: 'fail', error: r.error });
    else evs.push({ ...base, time_ns: s.ret, type: 'ok', ...r, ...(s.f === 'read' ? {} : { value: s.value }) });
  });
  return { events: finish(evs), watches: [collector(committed, revision)] };
}

/** Sorts events by time (invoke before completion of one op at equal times) and numbers them. */
function finish(evs: Ev[]): ClientEvent[] {
  const order = evs.map((e, i) => ({ e, i }));
  order.sort((a, b) => a.e.time_ns - b.e.time_ns || a.i - b.i);
  return order.map(({ e }, index) => ({ ...e, index }));
}

function collector(events: WatchEventRecord[], revision: number): WatchRecord {
  return {
    watcher: 'collector-n1',
    node: 'n1',
    time_ns: 0,
    key: '\u0000',
    range_end: '\u0000',
    start_revision: 1,
    prev_kv: false,
    progress_notify: false,
    collector: true,
    responses: [{ time_ns: 0, revision, progress_notify: false, canceled: false, compact_revision: 0, events }],
  };
}

export interface AppendGenOptions {
  readonly seed: number;
  readonly txns: number;
  readonly processes?: number;
  readonly activeKeys?: number;
  readonly appendsPerKey?: number;
  readonly infoRate?: number;
  readonly failRate?: number;
}

/** A strict-serializable list-append history (Elle's workload, item 7). */
export function generateAppendHistory(o: AppendGenOptions): GeneratedHistory {
  const rng = new Prng(o.seed);
  const procs = o.processes ?? 10;
  const active = o.activeKeys ?? 12;
  const perKey = o.appendsPerKey ?? 200;
  const infoRate = o.infoRate ?? 0.01;
  const failRate = o.failRate ?? 0.05;
  const meanNs = 3_000_000;
  let nextKey = 0;
  const keys: { name: string; appends: number }[] = [];
  for (let i = 0; i < active; i++) keys.push({ name: `a${nextKey++}`, appends: 0 });
  let nextValue = 1;
  let nextProcess = 0;
  const clocks = Array.from({ length: procs }, () => ({ process: nextProcess++, t: rng.int(meanNs) }));
  interface T {
    process: number;
    ops: MicroOp[];
    call: number;
    lin: number;
    ret: number;
    outcome: 'ok' | 'fail' | 'info';
    applied: boolean;
  }
  const txns: T[] = [];
  for (let n = 0; n < o.txns; n++) {
    let c = clocks[0]!;
    for (const x of clocks) if (x.t < c.t) c = x;
    const ops: MicroOp[] = [];
    const len = 1 + rng.int(4);
    for (let m = 0; m < len; m++) {
      const slot = rng.int(keys.length);
      const k = keys[slot]!;
      if (rng.chance(0.5)) ops.push(['r', k.name, null]);
      else {
        ops.push(['append', k.name, nextValue++]);
        if (++k.appends >= perKey) keys[slot] = { name: `a${nextKey++}`, appends: 0 };
      }
    }
    const call = c.t;
    const lin = call + 1 + rng.int(meanNs / 2);
    const ret = lin + 1 + rng.int(meanNs / 2);
    const hasAppend = ops.some((m) => m[0] === 'append');
    const outcome = hasAppend && rng.chance(infoRate) ? 'info' : hasAppend && rng.chance(failRate) ? 'fail' : 'ok';
    txns.push({ process: c.process, ops, call, lin, ret, outcome, applied: outcome === 'ok' || (outcome === 'info' && rng.chance(0.5)) });
    if (outcome === 'info') {
      c.process = nextProcess++;
      c.t = ret + rng.int(meanNs);
    } else c.t = ret + rng.int(meanNs / 4);
  }
  const state = new Map<string, number[]>();
  let revision = 1;
  const done = new Map<T, { ops: MicroOp[]; revision: number }>();
  for (const t of [...txns].sort((a, b) => a.lin - b.lin)) {
    if (!t.applied) continue;
    const out: MicroOp[] = [];
    let wrote = false;
    for (const m of t.ops) {
      if (m[0] === 'append') {
        const list = state.get(m[1]) ?? [];
        list.push(m[2]);
        state.set(m[1], list);
        wrote = true;
        out.push(m);
      } else out.push(['r', m[1], [...(state.get(m[1]) ?? [])]]);
    }
    if (wrote) revision++;
    done.set(t, { ops: out, revision });
  }
  const evs: Ev[] = [];
  for (const t of txns) {
    const base = { index: 0, process: t.process, f: 'txn' } as const;
    evs.push({ ...base, time_ns: t.call, type: 'invoke', txn: t.ops });
    const d = done.get(t);
    if (t.outcome === 'ok' && d !== undefined) evs.push({ ...base, time_ns: t.ret, type: 'ok', txn: d.ops, revision: d.revision });
    else if (t.outcome === 'fail') evs.push({ ...base, time_ns: t.ret, type: 'fail', txn: t.ops, error: 'guard_failed' });
    else evs.push({ ...base, time_ns: t.ret, type: 'info', txn: t.ops, error: 'timeout' });
  }
  return { events: finish(evs), watches: [] };
}
