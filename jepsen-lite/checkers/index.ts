/**
 * The checkers' public API: `checkRun` runs every checker that applies to a run, `checkRunDir`
 * loads a saved run directory first. Everything else here is pure: history in, verdicts out.
 *
 * Which checkers apply: register (read/write/cas ops), revision (any client op with a
 * revision, collectors, hashes), append and append-replay (txn ops with append micro-ops),
 * watch (non-collector watch records), lease (lease-* ops), lock (lock-* ops), health (node
 * logs or a final phase given in facts).
 *
 * What the checkers read from history.jsonl (beyond history.ts's required fields):
 * - register: write/cas invoke `key`, `value` (unique per key), cas `expected` (null = absent);
 *   write/cas ok `revision` (the header revision = the revision it created); read ok `value`
 *   (null when absent), `mod_revision`, `revision`; a cas that found another value is a `fail`
 *   with error 'cas_mismatch'.
 * - append: invoke `txn` with reads as ['r', k, null]; ok `txn` with what each read returned (a
 *   list, [] or null when absent) and `revision` (header revision). All reads of one op must be
 *   atomic with its appends (read inside the txn, or guarded by it), else they are not one txn.
 * - lease and lock: see lease.ts and lock.ts.
 * watch/*.jsonl: WatchRecord; the end-of-run collectors have `collector: true`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonl, type HistoryEvent, type WatchRecord } from '../history.js';
import { checkAppend, type AppendOptions, type Model } from './append.js';
import { buildCommittedLog, type CommittedLog } from './committed-log.js';
import { checkHealth, type HealthInput } from './health.js';
import { checkLease } from './lease.js';
import { checkLock } from './lock.js';
import { checkRegister } from './register.js';
import { checkRevisionReplay } from './replay.js';
import { checkRevisions, type StateHash } from './revision.js';
import { combineVerdicts, type CheckResult, type Verdict } from './result.js';
import { checkWatch } from './watch.js';

export type { Anomaly, CheckResult, Verdict } from './result.js';
export type { CommittedLog } from './committed-log.js';
export type { HealthInput, NodeExit, NodeHealthInput } from './health.js';
export type { StateHash } from './revision.js';
export type { Model } from './append.js';
export { buildCommittedLog } from './committed-log.js';
export { checkAppend, MODELS } from './append.js';
export { checkHealth } from './health.js';
export { checkLease } from './lease.js';
export { checkLock } from './lock.js';
export { checkRegister } from './register.js';
export { checkRevisionReplay } from './replay.js';
export { checkRevisions } from './revision.js';
export { checkWatch, matchesWatch } from './watch.js';

/** What the harness knows at the end of a run besides the history and the watch records. */
export interface RunFacts {
  /** End-of-test state hash per member (item 4d): member → { revision, hash }. */
  readonly hashes?: Readonly<Record<string, StateHash>>;
  /** Node logs and exits, fired failpoints and the final phase (health checker). */
  readonly health?: HealthInput;
  /** Members' election timeout, for lease L4. */
  readonly electionTimeoutMs?: number;
  /** Largest clock offset the clock nemesis injected, for lease L3. */
  readonly clockOffsetBoundMs?: number;
  /** Periods when faults were active, [start_ns, end_ns] (lease L4 waits for health). */
  readonly faultIntervals?: readonly (readonly [number, number])[];
  /** Compactions the admin nemesis ran (watch: compacted starts must be canceled). */
  /**
   * Compactions: `node` is the member that answered, `certain` false when the answer was lost
   * (it may or may not have happened).
   */
  readonly compactions?: readonly { readonly revision: number; readonly time_ns: number; readonly node?: string; readonly certain?: boolean }[];
}

export interface CheckRunOptions {
  /** Register per-key search timeout (item 38: 30 s). */
  readonly registerTimeoutMsPerKey?: number;
  /** The lock workload ran with fencing tokens; default: inferred from the history. */
  readonly lockFencing?: boolean;
  /** The model the append workload must satisfy (default strict-serializable). */
  readonly appendTarget?: Model;
  /** Run only these checkers (names as in RunResults.checkers). */
  readonly only?: readonly string[];
}

export interface RunResults {
  readonly valid: Verdict;
  /** Keyed by checker name: register, revision, append, append-replay, watch, lease, lock, health. */
  readonly checkers: Readonly<Record<string, CheckResult>>;
  readonly committedLog?: { readonly events: number; readonly fromRevision: number; readonly toRevision: number; readonly collectors: readonly string[] };
}

export interface RunInput {
  readonly events: readonly HistoryEvent[];
  readonly watches?: readonly WatchRecord[];
  readonly facts?: RunFacts;
  readonly options?: CheckRunOptions;
}

export function checkRun(input: RunInput): RunResults {
  const { events, facts = {}, options = {} } = input;
  const watches = input.watches ?? [];
  const { log, anomalies: collectorAnomalies } = buildCommittedLog(watches);
  const fs = new Set<string>();
  let hasAppend = false;
  for (const e of events) {
    if (e.process === 'nemesis') continue;
    fs.add(e.f);
    if (e.f === 'txn' && e.type === 'invoke' && (e.txn ?? []).some((m) => m[0] === 'append')) hasAppend = true;
  }
  const want = (name: string, applies: boolean): boolean => applies && (options.only === undefined || options.only.includes(name));
  const out: Record<string, CheckResult> = {};
  const committed: { committed?: CommittedLog } = log === undefined ? {} : { committed: log };
  if (want('register', fs.has('read') || fs.has('write') || fs.has('cas'))) {
    const { keys: _keys, ...r } = checkRegister(events, { ...committed, watches, ...(options.registerTimeoutMsPerKey === undefined ? {} : { timeoutMsPerKey: options.registerTimeoutMsPerKey }) });
    out['register'] = r;
  }
  if (want('revision', fs.size > 0 || collectorAnomalies.length > 0 || facts.hashes !== undefined)) {
    out['revision'] = checkRevisions(events, { collectorAnomalies, ...(facts.hashes === undefined ? {} : { hashes: facts.hashes }) });
  }
  if (want('append', hasAppend)) {
    const o: AppendOptions = options.appendTarget === undefined ? {} : { target: options.appendTarget };
    const { cycles: _c, ...r } = checkAppend(events, o);
    out['append'] = r;
  }
  if (want('append-replay', hasAppend)) out['append-replay'] = checkRevisionReplay(events);
  if (want('watch', watches.some((w) => w.collector !== true))) {
    out['watch'] = checkWatch(watches, { ...committed, events, collectorAnomalies, ...(facts.compactions === undefined ? {} : { compactions: facts.compactions }) });
  }
  if (want('lease', [...fs].some((f) => f.startsWith('lease-')))) {
    out['lease'] = checkLease(events, {
      ...committed,
      watches,
      ...(facts.electionTimeoutMs === undefined ? {} : { electionTimeoutMs: facts.electionTimeoutMs }),
      ...(facts.clockOffsetBoundMs === undefined ? {} : { clockOffsetBoundMs: facts.clockOffsetBoundMs }),
      ...(facts.faultIntervals === undefined ? {} : { faultIntervals: facts.faultIntervals }),
    });
  }
  if (want('lock', [...fs].some((f) => f.startsWith('lock-')))) {
    out['lock'] = checkLock(events, options.lockFencing === undefined ? {} : { fencing: options.lockFencing });
  }
  if (want('health', facts.health !== undefined)) out['health'] = checkHealth(facts.health!);
  return {
    valid: combineVerdicts(Object.values(out).map((r) => r.valid)),
    checkers: out,
    ...(log === undefined ? {} : { committedLog: { events: log.events.length, fromRevision: log.fromRevision, toRevision: log.toRevision, collectors: log.collectors } }),
  };
}

/** Loads <dir>/history.jsonl and <dir>/watch/*.jsonl and runs checkRun. */
export async function checkRunDir(dir: string, facts?: RunFacts, options?: CheckRunOptions): Promise<RunResults> {
  const events = await readJsonl<HistoryEvent>(join(dir, 'history.jsonl'));
  const watches: WatchRecord[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(join(dir, 'watch'))).filter((f) => f.endsWith('.jsonl')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const f of files) watches.push(...(await readJsonl<WatchRecord>(join(dir, 'watch', f))));
  return checkRun({ events, watches, ...(facts === undefined ? {} : { facts }), ...(options === undefined ? {} : { options }) });
}
