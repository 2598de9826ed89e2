/**
 * One jepsen-lite run, end to end (items 1, 21, 33, 35):
 *
 *   config.json → Db.start → workload.run ∥ schedule of nemeses (single | mixed)
 *     → final phase (final.ts) → final.json → checkers → results.json, summary.md
 *
 * The seed forks one Prng per part (db/proxies, nemeses, schedule, workload) so a seed repeats
 * every choice the harness makes. Member processes are stopped (by PID) whatever happens; their
 * data dirs are kept only when the run is not valid.
 */
import { execFileSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EtcdClient } from '../src/client/index.js';
import { Prng } from '../src/util/prng.js';
import { checkRunDir, type CheckResult, type NodeHealthInput, type RunFacts, type RunResults, type StateHash, type Verdict } from './checkers/index.js';
import { combineVerdicts } from './checkers/result.js';
import { ProcessDb, REPO_ROOT, sleep, type ExitRecord } from './db.js';
import { finalPhase, type FinalResult } from './final.js';
import { readJsonl, type HistoryEvent, type NemesisEvent, type WatchRecord } from './history.js';
import { writeReport, type NodeEvent } from './report/index.js';
import { workloads } from './workloads/index.js';
import { errorText } from './nemesis/admin.js';
import { createNemesis, type ScheduledNemesis } from './nemesis/index.js';
import { FileRecorder } from './recorder.js';
import type { RunConfig, RunContext, Workload, WorkloadName } from './types.js';

export interface Progress {
  readonly phase: 'starting' | 'workload' | 'final' | 'checking' | 'done';
  /** Seconds since the workload phase began (0 while starting). */
  readonly elapsedS: number;
  readonly timeLimitS: number;
  readonly ops: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  readonly nemesis: string;
}

export interface RunOptions {
  /** Use this workload instead of looking it up in workloads/index.ts (tests). */
  readonly workload?: Workload;
  readonly onProgress?: (p: Progress) => void;
  /** Aborting it (Ctrl-C) ends the run early: processes stopped, no final phase, no checks. */
  readonly signal?: AbortSignal;
  /** Keep data dirs even for a valid run. */
  readonly keepData?: boolean;
}

export interface RunOutcome {
  readonly runDir: string;
  readonly valid: Verdict;
  readonly results: readonly CheckResult[];
  readonly final: FinalResult | undefined;
  /** PIDs of every member process the run started (all ended when runTest returns). */
  readonly pids: readonly number[];
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

function gitSha(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The workload registry (jepsen-lite/workloads/index.ts). */
export function loadWorkload(name: WorkloadName): Workload {
  const make = workloads[name] as (() => Workload) | undefined;
  if (make === undefined) throw new HarnessError(`unknown workload ${name}`);
  try {
    return make();
  } catch (e) {
    throw new HarnessError(errorText(e), { cause: e });
  }
}

export async function runTest(config: RunConfig, opts: RunOptions = {}): Promise<RunOutcome> {
  const runDir = path.resolve(config.outDir);
  await mkdir(runDir, { recursive: true });
  if (existsSync(path.join(runDir, 'history.jsonl'))) throw new HarnessError(`${runDir} already holds a run`);
  const started = Date.now();
  await writeFile(path.join(runDir, 'config.json'), JSON.stringify({ ...config, outDir: runDir, gitSha: gitSha(), node: process.version, startedAt: new Date(started).toISOString() }, null, 2) + '\n');

  const root = new Prng(config.seed);
  const dbPrng = root.fork();
  const nemesisPrng = root.fork();
  const schedulePrng = root.fork();
  const workloadPrng = root.fork();

  const workload = opts.workload ?? loadWorkload(config.workload);
  const recorder = new FileRecorder(runDir);
  let phase: Progress['phase'] = 'starting';
  let nemesisNow = '';
  /** When the workload phase began (the time limit counts from there). */
  let workloadStarted = 0;
  const progress = (): void =>
    opts.onProgress?.({
      phase,
      elapsedS: workloadStarted === 0 ? 0 : (Date.now() - workloadStarted) / 1000,
      timeLimitS: config.timeLimitS,
      ops: recorder.counts.invoke,
      ok: recorder.counts.ok,
      fail: recorder.counts.fail,
      info: recorder.counts.info,
      nemesis: nemesisNow,
    });
  const ticker = setInterval(progress, 500);
  ticker.unref();

  const db = await ProcessDb.create(config, { runDir, prng: dbPrng });
  const clients = new Map<string, EtcdClient>();
  const clientFor = (node?: string): EtcdClient => {
    const key = node ?? '*';
    let c = clients.get(key);
    if (c === undefined) {
      const urls = node === undefined ? db.nodes.map((n) => n.clientUrl) : [db.nodes.find((n) => n.name === node)?.clientUrl];
      if (urls.some((u) => u === undefined)) throw new Error(`no member ${node}`);
      c = new EtcdClient({ endpoints: urls as string[], timeoutMs: 3000 });
      clients.set(key, c);
    }
    return c;
  };
  const workloadPhase = new AbortController();
  // Every client thread of the workload listens for the end of the phase.
  setMaxListeners(10_000, workloadPhase.signal);
  const interrupted = (): boolean => opts.signal?.aborted === true;
  opts.signal?.addEventListener('abort', () => workloadPhase.abort(), { once: true });
  const ctx: RunContext = { config, db, recorder, prng: workloadPrng, client: clientFor, signal: workloadPhase.signal };
  const nemeses = config.nemeses.filter((n) => n !== 'none').map((n) => createNemesis(n, nemesisPrng.fork(), config.nemesisModes?.[n]));

  let final: FinalResult | undefined;
  let harnessError: unknown;
  let leaders: { stop: () => Promise<void> } | undefined;
  try {
    await db.start();
    recorder.nemesis('cluster-ready', { nodes: db.nodes.map((n) => ({ name: n.name, client: n.clientUrl, peer: n.advertisedPeerUrl })) });
    phase = 'workload';
    workloadStarted = Date.now();
    progress();
    leaders = pollLeaders(db, recorder, path.join(runDir, 'node-events.jsonl'));
    let workloadError: unknown;
    const running = workload.run(ctx).catch((e: unknown) => {
      workloadError = e;
      workloadPhase.abort();
    });
    await runSchedule(ctx, nemeses, schedulePrng, workloadPhase.signal, (s) => (nemesisNow = s));
    workloadPhase.abort();
    // Ops in flight end by their own deadlines; bound the wait anyway.
    const giveUp = new AbortController();
    await Promise.race([running, sleep(30_000, giveUp.signal)]);
    giveUp.abort();
    if (workloadError !== undefined) throw new HarnessError(`workload ${workload.name} failed: ${errorText(workloadError)}`, { cause: workloadError });
    if (interrupted()) throw new HarnessError('interrupted');
    phase = 'final';
    nemesisNow = 'heal';
    progress();
    const finalCtx: RunContext = { ...ctx, signal: new AbortController().signal };
    final = await finalPhase(finalCtx, { nemeses, workload, exits: () => db.exits });
  } catch (e) {
    harnessError = e;
  } finally {
    await leaders?.stop();
    clearInterval(ticker);
    for (const c of clients.values()) c.close();
    recorder.close();
    await db.stop();
  }
  if (final !== undefined) await writeFile(path.join(runDir, 'final.json'), JSON.stringify({ ...final, exits: db.exits }, null, 2) + '\n');
  if (harnessError !== undefined) {
    await writeFile(path.join(runDir, 'harness-error.txt'), `${harnessError instanceof Error ? (harnessError.stack ?? harnessError.message) : String(harnessError)}\n`);
    throw harnessError instanceof HarnessError ? harnessError : new HarnessError(errorText(harnessError), { cause: harnessError });
  }
  phase = 'checking';
  progress();
  const { valid, results } = await checkRun(runDir);
  phase = 'done';
  progress();
  if (valid === true && opts.keepData !== true) {
    for (const n of db.nodes) await rm(n.dataDir, { recursive: true, force: true });
  }
  return { runDir, valid, results, final, pids: db.spawned.map((s) => s.pid) };
}

/**
 * The fault schedule (item 21). `single`: 1 s of traffic, one fault (held for the nemesis's own
 * duration), then traffic until the time limit, at least 1 s. `mixed`: a fault from the enabled
 * set starts ~5 s after the last one stopped and is held for its nemesis's duration, until the
 * time limit. Faults still in place at the end are left to the final phase, which stops them.
 */
async function runSchedule(ctx: RunContext, nemeses: readonly ScheduledNemesis[], prng: Prng, signal: AbortSignal, show: (s: string) => void): Promise<void> {
  const endAt = Date.now() + ctx.config.timeLimitS * 1000;
  const left = (): number => Math.max(0, endAt - Date.now());
  const fault = async (n: ScheduledNemesis, maxHoldMs: number): Promise<void> => {
    show(n.name);
    await n.start(ctx);
    await sleep(Math.min(n.holdMs(prng), maxHoldMs), signal);
    if (!signal.aborted) await n.stop(ctx);
    show('');
  };
  if (ctx.config.schedule === 'single') {
    await sleep(1000, signal);
    if (nemeses.length > 0 && !signal.aborted) await fault(prng.pick(nemeses), Math.max(0, left() - 1000));
    await sleep(Math.max(1000, left()), signal);
    return;
  }
  // Each round sleeps at least 1 s or ends the loop; bounded by the time limit.
  while (!signal.aborted && left() > 0) {
    await sleep(Math.min(left(), prng.range(4000, 6000)), signal);
    if (signal.aborted || left() === 0 || nemeses.length === 0) continue;
    await fault(prng.pick(nemeses), left());
  }
}

/**
 * Runs the checkers (checkers/index.ts) on a saved run dir and writes results.json and
 * summary.md. What the checkers need besides the history and watch records (hashes, health,
 * fault intervals, compactions, clock offsets) comes from final.json, the nemesis events and
 * the members' logs.
 */
export async function checkRun(runDir: string): Promise<{ valid: Verdict; results: CheckResult[] }> {
  const config = JSON.parse(await readFile(path.join(runDir, 'config.json'), 'utf8')) as RunConfig;
  const events = await readJsonl<HistoryEvent>(path.join(runDir, 'history.jsonl'));
  let final: (FinalResult & { exits: ExitRecord[] }) | undefined;
  try {
    final = JSON.parse(await readFile(path.join(runDir, 'final.json'), 'utf8')) as FinalResult & { exits: ExitRecord[] };
  } catch {
    final = undefined;
  }
  const facts = await runFacts(runDir, config, events, final);
  let out: RunResults;
  try {
    out = await checkRunDir(runDir, facts);
  } catch (e) {
    out = { valid: 'unknown', checkers: { harness: { checker: 'harness', valid: 'unknown', anomalies: [], stats: { unknown: `checkers failed: ${errorText(e)}` } } } };
  }
  const results = Object.values(out.checkers);
  if (final === undefined) results.push({ checker: 'final-phase', valid: 'unknown', anomalies: [], stats: { unknown: 'no final.json: the final phase did not complete' } });
  const valid = combineVerdicts(results.map((r) => r.valid));
  await writeFile(path.join(runDir, 'results.json'), JSON.stringify({ valid, checkers: results, ...(out.committedLog ? { committedLog: out.committedLog } : {}) }, null, 2) + '\n');
  await writeFile(path.join(runDir, 'summary.md'), summary(runDir, config, valid, results, events));
  // summary.md (theirs replaces ours), perf.csv and timeline.html from report/.
  try {
    const watchRecords = await readWatchRecords(runDir);
    let polled: NodeEvent[] = [];
    try {
      polled = await readJsonl<NodeEvent>(path.join(runDir, 'node-events.jsonl'));
    } catch {
      // an older run, or one that never reached its workload phase
    }
    const merged = [...nodeEvents(events), ...polled].sort((a, b) => a.time_ns - b.time_ns);
    await writeReport(runDir, { history: events, watchRecords, results: results, config, nodeEvents: merged });
  } catch (e) {
    await writeFile(path.join(runDir, 'report-error.txt'), `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
  return { valid, results };
}

async function readWatchRecords(runDir: string): Promise<WatchRecord[]> {
  const out: WatchRecord[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(path.join(runDir, 'watch'))).filter((f) => f.endsWith('.jsonl')).sort();
  } catch {
    return out;
  }
  for (const f of files) out.push(...(await readJsonl<WatchRecord>(path.join(runDir, 'watch', f))));
  return out;
}

/**
 * Polls every member's Status twice a second during the run and appends each change of its
 * leadership or term to node-events.jsonl (time_ns on the history's clock), for the timeline's
 * member lanes. Member states (killed, paused, partitioned) come from the nemesis events.
 */
function pollLeaders(db: ProcessDb, recorder: FileRecorder, file: string): { stop: () => Promise<void> } {
  const last = new Map<string, string>();
  let stopped = false;
  const loop = (async () => {
    // Bounded by stop(): each round sleeps 500 ms; each Status call has a 300 ms deadline.
    while (!stopped) {
      const lines: string[] = [];
      for (const name of db.upNodes()) {
        try {
          const s = await db.memberClient(name).status(undefined, { timeoutMs: 300 });
          const e: NodeEvent = { time_ns: recorder.now(), node: name, leader: s.leader !== 0n && s.leader === s.header.memberId, term: s.raftTerm };
          const key = `${e.leader}/${e.term}`;
          if (last.get(name) !== key) {
            last.set(name, key);
            lines.push(JSON.stringify(e));
          }
        } catch {
          // down, paused or busy: its state comes from the nemesis events
        }
      }
      if (lines.length > 0) await appendFile(file, lines.join('\n') + '\n');
      await sleep(500);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Member states over time for the timeline's member lanes, from the nemesis events. */
export function nodeEvents(events: readonly HistoryEvent[]): NodeEvent[] {
  const out: NodeEvent[] = [];
  const targetsOf = (v: unknown): string[] => {
    const t = (v as { targets?: unknown } | undefined)?.targets;
    return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string') : [];
  };
  const partitioned = new Set<string>();
  for (const e of events) {
    if (e.process !== 'nemesis') continue;
    const t = e.time_ns;
    const v = e.value as Record<string, unknown> | undefined;
    switch (e.f) {
      case 'cluster-ready':
        for (const n of (v?.['nodes'] ?? []) as { name: string }[]) out.push({ time_ns: t, node: n.name, state: 'up' });
        break;
      case 'start-kill':
      case 'start-kill-lossy':
      case 'start-disk':
        for (const n of targetsOf(v)) out.push({ time_ns: t, node: n, state: 'killed' });
        break;
      case 'stop-kill':
      case 'stop-kill-lossy':
      case 'stop-pause':
      case 'disk-damage':
        for (const n of e.f === 'disk-damage' ? [String(v?.['node'])] : targetsOf(v)) out.push({ time_ns: t, node: n, state: 'up' });
        break;
      case 'start-pause':
        for (const n of targetsOf(v)) out.push({ time_ns: t, node: n, state: 'paused' });
        break;
      case 'start-partition':
        for (const c of (v?.['cuts'] ?? []) as [string, string][]) for (const n of c) partitioned.add(n);
        for (const n of partitioned) out.push({ time_ns: t, node: n, state: 'partitioned' });
        break;
      case 'stop-partition':
        for (const n of partitioned) out.push({ time_ns: t, node: n, state: 'up' });
        partitioned.clear();
        break;
      case 'stop-member':
        if (v?.['action'] === 'remove') for (const n of targetsOf(v)) out.push({ time_ns: t, node: n, state: 'removed' });
        if (v?.['action'] === 'add' || v?.['action'] === 'replace') for (const n of targetsOf(v)) out.push({ time_ns: t, node: n, state: 'up' });
        break;
      case 'healthy':
        if (typeof v?.['leader'] === 'string') out.push({ time_ns: t, node: v['leader'], leader: true });
        break;
      default:
        break;
    }
  }
  return out;
}

async function runFacts(runDir: string, config: RunConfig, events: readonly HistoryEvent[], final: (FinalResult & { exits: ExitRecord[] }) | undefined): Promise<RunFacts> {
  const nemesis = events.filter((e): e is NemesisEvent => e.process === 'nemesis');
  const value = (e: NemesisEvent): Record<string, unknown> => (typeof e.value === 'object' && e.value !== null ? (e.value as Record<string, unknown>) : {});
  // Fault intervals: start-x .. stop-x of the same nemesis; one left open ends at the heal.
  const healAt = nemesis.find((e) => e.f === 'heal')?.time_ns ?? nemesis[nemesis.length - 1]?.time_ns ?? 0;
  const open = new Map<string, number>();
  const faultIntervals: [number, number][] = [];
  for (const e of nemesis) {
    const m = /^(start|stop)-(.+)$/.exec(e.f);
    if (m === null || m[2] === 'admin') continue;
    if (m[1] === 'start') open.set(m[2] as string, e.time_ns);
    else {
      const t = open.get(m[2] as string);
      if (t !== undefined) faultIntervals.push([t, e.time_ns]);
      open.delete(m[2] as string);
    }
  }
  for (const t of open.values()) faultIntervals.push([t, Math.max(t, healAt)]);
  // The admin nemesis's compactions, and the watch workload's own (a compaction whose outcome
  // is unknown may have happened: it counts, so a missing prevKV below it is not a violation).
  const compactions = nemesis.flatMap((e) => {
    const v = value(e);
    const node = typeof v['node'] === 'string' ? { node: v['node'] } : {};
    if (e.f === 'stop-admin' && v['compacted'] === true && typeof v['compact'] === 'number') return [{ revision: v['compact'], time_ns: e.time_ns, ...node }];
    if ((e.f === 'compact' || e.f === 'compact-unknown') && typeof v['revision'] === 'number') {
      return [{ revision: v['revision'], time_ns: e.time_ns, certain: e.f === 'compact', ...node }];
    }
    return [];
  });
  let clockOffsetBoundMs = 0;
  for (const e of nemesis) {
    if (e.f !== 'start-clock') continue;
    for (const s of Object.values((value(e)['settings'] ?? {}) as Record<string, { offsetMs?: number; strobeMs?: number }>)) {
      clockOffsetBoundMs = Math.max(clockOffsetBoundMs, Math.abs(s.offsetMs ?? 0), Math.abs(s.strobeMs ?? 0));
    }
  }
  const damagedNodes = [...new Set(nemesis.flatMap((e) => (e.f === 'disk-damage' && typeof value(e)['node'] === 'string' ? [value(e)['node'] as string] : [])))];
  const firedFailpoints: { node: string; name: string }[] = [];
  for (const e of nemesis) {
    const v = value(e);
    if (e.f === 'start-failpoint' && typeof v['failpoint'] === 'string') for (const n of (v['targets'] ?? []) as string[]) firedFailpoints.push({ node: n, name: v['failpoint'] });
  }
  const nodeNames = Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  for (const fp of config.failpoints) {
    const name = fp.split('=')[0]?.trim();
    if (name !== undefined && name !== '') for (const n of nodeNames) firedFailpoints.push({ node: n, name });
  }
  const nodes: NodeHealthInput[] = [];
  for (const n of nodeNames) {
    let log = '';
    try {
      log = await readFile(path.join(runDir, 'nodes', n, 'log'), 'utf8');
    } catch {
      // no log: the member never started
    }
    // 'fault' exits (an armed panic, a member refusing its damaged disk) are the nemesis's doing.
    const exits = (final?.exits ?? []).filter((x) => x.node === n).map((x) => ({ code: x.code, signal: x.signal, expected: x.expected !== false }));
    nodes.push({ node: n, log, exits });
  }
  const finalOk = final !== undefined && final.healthy && final.errors.length === 0;
  const hashes: Record<string, StateHash> = {};
  for (const [n, h] of Object.entries(final?.hashes ?? {})) hashes[n] = { revision: h.revision, hash: h.hash };
  return {
    ...(final === undefined ? {} : { hashes }),
    health: { nodes, firedFailpoints, damagedNodes, finalPhase: finalOk ? { ok: true } : { ok: false, message: final === undefined ? 'no final.json' : final.errors.join('; ') || 'unhealthy' } },
    electionTimeoutMs: config.electionMs,
    clockOffsetBoundMs,
    faultIntervals,
    compactions,
  };
}

function summary(runDir: string, config: RunConfig, valid: Verdict, results: readonly CheckResult[], events: readonly HistoryEvent[]): string {
  const ops = events.filter((e) => e.process !== 'nemesis' && e.type !== 'invoke');
  const count = (t: string): number => ops.filter((e) => e.type === t).length;
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# jepsen-lite: ${config.workload} / ${config.nemeses.join(',')} / ${config.schedule}`,
    '',
    `Run dir: \`${runDir}\`, seed ${config.seed}, ${config.nodes} nodes, ${config.timeLimitS} s.`,
    `Ops: ${ops.length} completed (${count('ok')} ok, ${count('fail')} fail, ${count('info')} info); nemesis events: ${events.filter((e) => e.process === 'nemesis').length}.`,
    '',
    `**Verdict: ${verdictText(valid)}**`,
    '',
    '| checker | verdict | witness |',
    '| --- | --- | --- |',
    ...results.map((r) => {
      const first = r.anomalies[0];
      const witness = first !== undefined ? `${first.type}: ${first.message}${first.events.length > 0 ? ` (events ${first.events.slice(0, 6).join(', ')})` : ''}` : typeof r.stats['unknown'] === 'string' ? `unknown: ${r.stats['unknown']}` : '';
      return `| ${r.checker} | ${verdictText(r.valid)} | ${cell(witness.slice(0, 300))} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

export function verdictText(v: Verdict): string {
  return v === true ? 'valid' : v === false ? 'INVALID' : 'unknown';
}

/** Exit code of item 35: 0 valid, 1 invalid, 3 unknown (2 is a harness error). */
export function exitCode(v: Verdict): number {
  return v === true ? 0 : v === false ? 1 : 3;
}
