/**
 * Register linearizability (JEPSEN-LITE.md item 25): the Wing & Gong search with Lowe's memo
 * cache, as porcupine does it, written for our register workload.
 *
 * Per key: the ops become call and return entries in a doubly linked list sorted by time (a call
 * before a return at the same time, which only makes ops more concurrent). The search walks the
 * list; at a call it tries to linearize the op now (apply it to the model, unlink its call and
 * return, push it on a stack); at a return whose op is not yet linearized it backtracks. A cache
 * of (set of linearized ops, model state) pairs already explored stops it re-exploring, which is
 * what makes it practical. The history is linearizable iff the list empties.
 *
 * The model is a register holding (value, mod_revision). When revisions were recorded it is
 * revision-aware: a write's ok carries the revision it created, a read's ok the mod_revision it
 * saw, so a read must see exactly the write of that revision (Jepsen's versioned register), and
 * a key's writes linearize in increasing revision order.
 *
 * Indeterminate (`info`) writes and cas are resolved first with the committed-event log of the
 * collectors (etcd robustness's "patching"): write values are unique, so a value that never
 * appears in a complete log was never applied (drop the op); one that appears was applied, at
 * its event's revision, before the first time anyone observed it (cut its return time there).
 * What remains unresolved may or may not take effect: the search tries both.
 *
 * Worked example (key k, no revisions): p1 write 1 [0,10], p2 read 1 [2,4], p3 read null [5,6].
 * Entries: c1@0 c2@2 r2@4 c3@5 r3@6 r1@10. The search linearizes write 1, then read 1; at c3 it
 * cannot apply "read null" to state 1, moves on, reaches r3 with op 3 unplaced and backtracks:
 * every order fails, so the key is not linearizable; the longest partial linearization is
 * [write 1, read 1] and the op that could not be placed is p3's read.
 */
import type { ClientEvent, HistoryEvent, WatchRecord } from '../history.js';
import type { CommittedLog } from './committed-log.js';
import { describeOp, toOps, valueKey, witness, type Op } from './ops.js';
import { AnomalySink, type CheckResult } from './result.js';

export interface RegisterOptions {
  /** The collectors' committed-event log, used to resolve `info` writes. */
  readonly committed?: CommittedLog;
  /** Watch records: a PUT delivered to a watcher at time t was applied before t. */
  readonly watches?: readonly WatchRecord[];
  /** Per-key search budget; past it the key (and the verdict) is 'unknown'. Default 30 s. */
  readonly timeoutMsPerKey?: number;
  /** A deterministic budget in search steps per key (tests). Default unlimited. */
  readonly maxStepsPerKey?: number;
  /** Force the revision-aware model on/off; default: on when revisions were recorded. */
  readonly revisionAware?: boolean;
  /** Time source for the timeout (ms); default performance.now. */
  readonly nowMs?: () => number;
}

const ABSENT = 0;
const UNKNOWN_REV = -1;

const enum Kind {
  Read,
  Write,
  Cas,
  /** A cas that failed with cas_mismatch: it ran and found a value other than expected. */
  CasMiss,
}

interface SearchOp {
  readonly op: Op;
  readonly kind: Kind;
  /** Interned value read (Read) or written (Write, Cas). */
  readonly value: number;
  /** Interned expected value (Cas, CasMiss). */
  readonly expected: number;
  /** Revision created (Write, Cas) or mod_revision seen (Read); UNKNOWN_REV if not recorded. */
  readonly rev: number;
  /** An unresolved indeterminate write/cas: it may also have had no effect. */
  readonly mayNotHappen: boolean;
  readonly call: number;
  readonly ret: number;
}

export interface KeyResult {
  readonly key: string;
  readonly valid: boolean | 'unknown';
  readonly ops: number;
  readonly steps: number;
  readonly cacheEntries: number;
  /** For a failing key: the longest partial linearization (op invoke indices, in order). */
  readonly partial?: readonly number[];
  /** For a failing key: the op that could not be placed after `partial`. */
  readonly stuck?: number;
}

const REGISTER_FS = new Set(['read', 'write', 'cas']);

/** Checks every register key of a history; see the file comment. */
export function checkRegister(events: readonly HistoryEvent[], opts: RegisterOptions = {}): CheckResult & { keys: KeyResult[] } {
  const started = performance.now();
  const sink = new AnomalySink();
  const ops = toOps(events, (f) => REGISTER_FS.has(f));
  const revisionAware =
    opts.revisionAware ??
    (ops.some((o) => o.type === 'ok' && o.f !== 'read' && o.complete?.revision !== undefined) &&
      ops.some((o) => o.type === 'ok' && o.f === 'read' && o.complete?.mod_revision !== undefined));
  // Keys that other workloads also delete or attach to leases are not plain registers.
  const notRegister = new Set<string>();
  for (const e of events) if (e.process !== 'nemesis' && (e.f === 'delete' || e.f === 'lease-put') && e.key !== undefined) notRegister.add(e.key);
  const byKey = new Map<string, Op[]>();
  for (const op of ops) {
    const key = op.invoke.key;
    if (key === undefined || notRegister.has(key)) continue;
    const list = byKey.get(key) ?? [];
    list.push(op);
    byKey.set(key, list);
  }
  const observations = firstObservations(events);
  if (opts.watches !== undefined) noteWatchObservations(observations, opts.watches);
  const stats = { keys: byKey.size, skippedKeys: notRegister.size, ops: ops.length, infoApplied: 0, infoDropped: 0, infoUnresolved: 0, steps: 0, unknownKeys: 0, revisionAware: revisionAware ? 1 : 0 };
  const keys: KeyResult[] = [];
  for (const [key, keyOps] of byKey) {
    const prepared = prepareKey(key, keyOps, opts.committed, observations, revisionAware, stats);
    const r = searchKey(key, prepared.ops, prepared.values, revisionAware, opts);
    stats.steps += r.steps;
    keys.push(r);
    if (r.valid === 'unknown') {
      stats.unknownKeys++;
      sink.unknown(`key ${key}: search budget exhausted after ${r.steps} steps`);
    } else if (!r.valid) {
      const byIndex = new Map(keyOps.map((o) => [o.invoke.index, o]));
      const stuck = r.stuck === undefined ? undefined : byIndex.get(r.stuck);
      const lastIdx = r.partial?.[r.partial.length - 1];
      const last = lastIdx === undefined ? undefined : byIndex.get(lastIdx);
      sink.add({
        type: 'nonlinearizable',
        key,
        message:
          `key ${key}: no linearization; after ${r.partial?.length ?? 0} ops` +
          (last === undefined ? '' : ` (last: ${describeOp(last)})`) +
          (stuck === undefined ? '' : `, ${describeOp(stuck)} cannot be placed`),
        events: [...(stuck === undefined ? [] : witness(stuck)), ...(last === undefined ? [] : witness(last))],
        details: {
          partial: r.partial,
          stuck: r.stuck,
          partialOps: (r.partial ?? []).map((i) => {
            const o = byIndex.get(i);
            return o === undefined ? String(i) : describeOp(o);
          }),
        },
      });
    }
  }
  const result = sink.result('register', { ...stats, ms: Math.round(performance.now() - started) });
  return { ...result, keys };
}

/** For each (key, value): the earliest time it was observed by an ok read, an ok cas or a watch. */
function firstObservations(events: readonly HistoryEvent[]): Map<string, number> {
  const seen = new Map<string, number>();
  const note = (key: string, v: string, t: number): void => {
    const k = `${key}\u0000${v}`;
    const prev = seen.get(k);
    if (prev === undefined || t < prev) seen.set(k, t);
  };
  const invokes = new Map<number, ClientEvent>();
  for (const e of events) {
    if (e.process === 'nemesis') continue;
    const ce = e as ClientEvent;
    if (ce.type === 'invoke') invokes.set(ce.process, ce);
    else if (ce.type === 'ok') {
      const inv = invokes.get(ce.process);
      const key = inv?.key ?? ce.key;
      if (key === undefined) continue;
      if (ce.f === 'read' && ce.value !== null && ce.value !== undefined) note(key, valueKey(ce.value), ce.time_ns);
      if (ce.f === 'cas' && inv?.expected !== null && inv?.expected !== undefined) note(key, valueKey(inv.expected), ce.time_ns);
    }
  }
  return seen;
}

/** Adds watch observations (non-collector watchers' responses carry a time) to `seen`. */
function noteWatchObservations(seen: Map<string, number>, watches: readonly WatchRecord[]): void {
  for (const w of watches) {
    if (w.collector === true) continue;
    for (const resp of w.responses) {
      for (const ev of resp.events) {
        if (ev.type !== 'PUT' || ev.value === null) continue;
        const k = `${ev.key}\u0000${ev.value}`;
        const prev = seen.get(k);
        if (prev === undefined || resp.time_ns < prev) seen.set(k, resp.time_ns);
      }
    }
  }
}

function prepareKey(
  key: string,
  ops: readonly Op[],
  committed: CommittedLog | undefined,
  observed: Map<string, number>,
  revisionAware: boolean,
  stats: { infoApplied: number; infoDropped: number; infoUnresolved: number },
): { ops: SearchOp[]; values: string[] } {
  const values: string[] = ['\u0000null'];
  const ids = new Map<string, number>([['\u0000null', ABSENT]]);
  const intern = (v: unknown): number => {
    const k = valueKey(v);
    let id = ids.get(k);
    if (id === undefined) {
      id = values.length;
      values.push(k);
      ids.set(k, id);
    }
    return id;
  };
  // Committed PUT revisions of this key by value; a value written twice is not resolvable.
  const committedRev = new Map<string, number>();
  if (committed !== undefined) {
    for (const e of committed.events) if (e.key === key && e.type === 'PUT' && e.value !== null) committedRev.set(e.value, committedRev.has(e.value) ? UNKNOWN_REV : e.mod_revision);
  }
  const logComplete = committed !== undefined && committed.fromRevision <= 1 && committed.holes.length === 0;
  const writers = new Map<string, number>();
  for (const op of ops) if (op.f !== 'read') writers.set(valueKey(op.invoke.value), (writers.get(valueKey(op.invoke.value)) ?? 0) + 1);
  const out: SearchOp[] = [];
  for (const op of ops) {
    const c = op.complete;
    if (op.f === 'read') {
      if (op.type !== 'ok' || c === undefined) continue; // a read that failed or may not have happened says nothing
      out.push({ op, kind: Kind.Read, value: intern(c.value ?? null), expected: ABSENT, rev: revisionAware && c.value !== null && c.value !== undefined ? (c.mod_revision ?? UNKNOWN_REV) : UNKNOWN_REV, mayNotHappen: false, call: op.call, ret: op.ret });
      continue;
    }
    const kind = op.f === 'write' ? Kind.Write : Kind.Cas;
    const value = intern(op.invoke.value ?? null);
    const expected = kind === Kind.Cas ? intern(op.invoke.expected ?? null) : ABSENT;
    if (op.type === 'fail') {
      if (kind === Kind.Cas && c?.error === 'cas_mismatch') out.push({ op, kind: Kind.CasMiss, value, expected, rev: UNKNOWN_REV, mayNotHappen: false, call: op.call, ret: op.ret });
      continue;
    }
    if (op.type === 'ok') {
      out.push({ op, kind, value, expected, rev: revisionAware ? (c?.revision ?? UNKNOWN_REV) : UNKNOWN_REV, mayNotHappen: false, call: op.call, ret: op.ret });
      continue;
    }
    // info: resolve with the committed log and the observations.
    const vk = valueKey(op.invoke.value ?? null);
    const unique = writers.get(vk) === 1 && value !== ABSENT;
    const seenAt = unique ? observed.get(`${key}\u0000${vk}`) : undefined;
    const rev = unique ? committedRev.get(vk) : undefined;
    if (unique && rev === undefined && logComplete && seenAt === undefined) {
      stats.infoDropped++;
      continue;
    }
    const applied = rev !== undefined || seenAt !== undefined;
    if (applied) stats.infoApplied++;
    else stats.infoUnresolved++;
    out.push({
      op,
      kind,
      value,
      expected,
      rev: revisionAware && rev !== undefined ? rev : UNKNOWN_REV,
      mayNotHappen: !applied,
      call: op.call,
      ret: seenAt !== undefined && seenAt >= op.call ? seenAt : Infinity,
    });
  }
  return { ops: out, values };
}

interface CacheEntry {
  readonly bits: Uint32Array;
  readonly value: number;
  readonly rev: number;
}

/** The search for one key; see the file comment. */
export function searchKey(key: string, ops: readonly SearchOp[], _values: readonly string[], revisionAware: boolean, opts: RegisterOptions): KeyResult {
  const n = ops.length;
  if (n === 0) return { key, valid: true, ops: 0, steps: 0, cacheEntries: 0 };
  // Entries 1..2n; 0 is the head sentinel. Entry 2i+1 is op i's call, 2i+2 its return.
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(2 * i + 1, 2 * i + 2);
  const timeOf = (e: number): number => {
    const op = ops[(e - 1) >> 1]!;
    return (e & 1) === 1 ? op.call : op.ret;
  };
  order.sort((a, b) => {
    const ta = timeOf(a);
    const tb = timeOf(b);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ca = a & 1;
    const cb = b & 1;
    if (ca !== cb) return cb - ca; // calls first
    return a - b;
  });
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let p = 0;
  for (const e of order) {
    next[p] = e;
    prev[e] = p;
    p = e;
  }
  const lift = (e: number): void => {
    const m = e + 1;
    next[prev[e]!] = next[e]!;
    if (next[e]! !== -1) prev[next[e]!] = prev[e]!;
    next[prev[m]!] = next[m]!;
    if (next[m]! !== -1) prev[next[m]!] = prev[m]!;
  };
  const unlift = (e: number): void => {
    const m = e + 1;
    next[prev[m]!] = m;
    if (next[m]! !== -1) prev[next[m]!] = m;
    next[prev[e]!] = e;
    if (next[e]! !== -1) prev[next[e]!] = e;
  };

  // Zobrist hashing makes the bitset hash O(1) to update.
  const zobrist = new Uint32Array(n);
  let seed = 0x2545f491 ^ n;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6a09e667) >>> 0;
    seed = (seed ^ (seed >>> 12)) >>> 0;
    zobrist[i] = Math.imul(seed ^ (seed >>> 16), 0x297a2d39) >>> 0;
  }
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  let hash = 0;
  const cache = new Map<number, CacheEntry[]>();
  let cacheEntries = 0;
  const cacheKey = (h: number, v: number, r: number): number => (h ^ Math.imul(v + 1, 0x9e3779b1) ^ Math.imul((r | 0) + 2, 0x85ebca6b)) >>> 0;
  /** Adds (bits, v, r) to the cache; false if it was already there. */
  const cacheAdd = (h: number, v: number, r: number): boolean => {
    const k = cacheKey(h, v, r);
    let list = cache.get(k);
    if (list === undefined) {
      list = [];
      cache.set(k, list);
    } else {
      outer: for (const c of list) {
        if (c.value !== v || c.rev !== r) continue;
        for (let w = 0; w < words; w++) if (c.bits[w] !== bits[w]) continue outer;
        return false;
      }
    }
    list.push({ bits: bits.slice(), value: v, rev: r });
    cacheEntries++;
    return true;
  };

  // The model: value and mod_revision. Choice 0 applies the op; choice 1 (only for
  // mayNotHappen ops) leaves the state unchanged.
  let value = ABSENT;
  let rev = 0;
  let nv = 0;
  let nr = 0;
  const tryStep = (op: SearchOp, choice: number): boolean => {
    if (choice === 1) {
      nv = value;
      nr = rev;
      return op.mayNotHappen;
    }
    switch (op.kind) {
      case Kind.Read:
        if (value !== op.value) return false;
        if (revisionAware && op.rev !== UNKNOWN_REV && rev !== UNKNOWN_REV && op.value !== ABSENT && rev !== op.rev) return false;
        nv = value;
        nr = rev === UNKNOWN_REV ? op.rev : rev;
        return true;
      case Kind.Write:
      case Kind.Cas:
        if (op.kind === Kind.Cas && value !== op.expected) return false;
        if (revisionAware && op.rev !== UNKNOWN_REV && rev !== UNKNOWN_REV && op.rev <= rev) return false;
        nv = op.value;
        nr = revisionAware ? op.rev : 0;
        return true;
      case Kind.CasMiss:
        if (value === op.expected) return false;
        nv = value;
        nr = rev;
        return true;
    }
  };

  const stackEntry = new Int32Array(n);
  const stackChoice = new Int8Array(n);
  const stackValue = new Int32Array(n);
  const stackRev = new Float64Array(n);
  let depth = 0;
  let bestDepth = 0;
  let best: number[] = [];
  let bestPending = true;
  let stuck: number | undefined;

  const budgetSteps = opts.maxStepsPerKey ?? Infinity;
  const timeoutMs = opts.timeoutMsPerKey ?? 30_000;
  const now = opts.nowMs ?? (() => performance.now());
  const deadline = now() + timeoutMs;
  let steps = 0;
  let entry = next[0]!;
  let startChoice = 0;
  while (next[0]! !== -1) {
    steps++;
    if (steps > budgetSteps || ((steps & 4095) === 0 && now() > deadline)) return { key, valid: 'unknown', ops: n, steps, cacheEntries };
    if (entry === -1) throw new Error(`register search: fell off the entry list (key ${key})`);
    if ((entry & 1) === 1) {
      const i = (entry - 1) >> 1;
      const op = ops[i]!;
      let placed = false;
      for (let choice = startChoice; choice < 2; choice++) {
        if (!tryStep(op, choice)) continue;
        bits[i >>> 5]! |= 1 << (i & 31);
        const h = (hash ^ zobrist[i]!) >>> 0;
        if (cacheAdd(h, nv, nr)) {
          stackEntry[depth] = entry;
          stackChoice[depth] = choice;
          stackValue[depth] = value;
          stackRev[depth] = rev;
          depth++;
          hash = h;
          value = nv;
          rev = nr;
          lift(entry);
          placed = true;
          break;
        }
        bits[i >>> 5]! &= ~(1 << (i & 31));
      }
      startChoice = 0;
      if (placed) {
        if (depth > bestDepth) {
          bestDepth = depth;
          best = Array.from(stackEntry.subarray(0, depth), (e) => ops[(e - 1) >> 1]!.op.invoke.index);
          bestPending = true;
        }
        entry = next[0]!;
      } else {
        entry = next[entry]!;
      }
    } else {
      // The return of an op not yet linearized: nothing placed so far can be extended.
      if (bestPending) {
        stuck = ops[(entry - 1) >> 1]!.op.invoke.index;
        bestPending = false;
      }
      if (depth === 0) {
        return { key, valid: false, ops: n, steps, cacheEntries, partial: best, ...(stuck === undefined ? {} : { stuck }) };
      }
      depth--;
      const e = stackEntry[depth]!;
      const i = (e - 1) >> 1;
      value = stackValue[depth]!;
      rev = stackRev[depth]!;
      bits[i >>> 5]! &= ~(1 << (i & 31));
      hash = (hash ^ zobrist[i]!) >>> 0;
      unlift(e);
      entry = e;
      startChoice = stackChoice[depth]! + 1;
    }
  }
  return { key, valid: true, ops: n, steps, cacheEntries };
}
