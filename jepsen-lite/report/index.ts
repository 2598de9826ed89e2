/**
 * The run report (JEPSEN-LITE.md items 33–34): summary.md, perf.csv and timeline.html in the
 * run directory. The harness calls `writeReport` after the checkers wrote results.json:
 *
 *   await writeReport(runDir, { history, watchRecords, results, config, nodeEvents });
 *
 * `results` is results.json as checkers/index.ts returns it (RunResults) or a list of
 * CheckResults; fields it lacks are shown as missing, never an error. `nodeEvents` are member
 * state changes over time (up, paused, killed, partitioned; leader and term when known); without
 * them the member lanes show every member up.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEvent, WatchRecord } from '../history.js';
import { nemesisBands, nodeSegments, normalizeResults, pairHistory, type NodeEvent, type ResultsInput } from './model.js';
import { perfCsv } from './perf.js';
import { summaryMarkdown } from './summary.js';
import { timelineHtml } from './timeline.js';

export type { NodeEvent, ReportChecker, ResultsInput } from './model.js';
export { nemesisBands, nodeSegments, normalizeResults, pairHistory } from './model.js';
export { perfCsv, throughput } from './perf.js';
export { summaryMarkdown } from './summary.js';
export { timelineData, timelineHtml } from './timeline.js';

export interface ReportInput {
  readonly history: readonly HistoryEvent[];
  readonly watchRecords?: readonly WatchRecord[];
  readonly results?: ResultsInput;
  /** RunConfig (or any object: workload, nemeses, seed, ... are shown when present). */
  readonly config?: unknown;
  readonly nodeEvents?: readonly NodeEvent[];
}

export interface ReportFiles {
  readonly summary: string;
  readonly perf: string;
  readonly timeline: string;
}

export async function writeReport(runDir: string, input: ReportInput): Promise<ReportFiles> {
  await mkdir(runDir, { recursive: true });
  const { ops, end_ns } = pairHistory(input.history);
  const checkers = normalizeResults(input.results);
  const cfg = (input.config ?? {}) as Record<string, unknown>;
  const nodeNames = new Set<string>();
  for (const e of input.nodeEvents ?? []) nodeNames.add(e.node);
  for (const e of input.history) if (e.process !== 'nemesis' && e.node !== undefined) nodeNames.add(e.node);
  if (nodeNames.size === 0 && typeof cfg['nodes'] === 'number') for (let i = 1; i <= cfg['nodes']; i++) nodeNames.add(`n${i}`);
  const nodes = [...nodeNames].sort();
  const title = `jepsen-lite ${String(cfg['workload'] ?? '')} ${Array.isArray(cfg['nemeses']) ? (cfg['nemeses'] as unknown[]).join(',') : ''} seed ${String(cfg['seed'] ?? '?')}`.replace(/\s+/g, ' ');
  const files: ReportFiles = {
    summary: path.join(runDir, 'summary.md'),
    perf: path.join(runDir, 'perf.csv'),
    timeline: path.join(runDir, 'timeline.html'),
  };
  await writeFile(files.summary, summaryMarkdown({ checkers, config: input.config, ops: ops.length, watchRecords: input.watchRecords?.length ?? 0, durationS: end_ns / 1e9 }));
  await writeFile(files.perf, perfCsv(ops));
  await writeFile(
    files.timeline,
    timelineHtml({ title, history: input.history, ops, end_ns, bands: nemesisBands(input.history, end_ns), nodes, segments: nodeSegments(input.nodeEvents ?? [], nodes, end_ns), checkers }),
  );
  return files;
}
