/**
 * summary.md (item 33): one table, checker → verdict → witness (the first anomaly's message and
 * its event indexes), then the figures a reader wants first.
 */
import type { ReportChecker } from './model.js';
import { verdictText } from './model.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export interface SummaryInput {
  readonly checkers: readonly ReportChecker[];
  readonly config?: unknown;
  readonly ops: number;
  readonly watchRecords: number;
  readonly durationS: number;
}

export function summaryMarkdown(s: SummaryInput): string {
  const lines: string[] = ['# jepsen-lite run', ''];
  const cfg = (s.config ?? {}) as Record<string, unknown>;
  const desc = ['workload', 'nemeses', 'nodes', 'timeLimitS', 'rate', 'concurrency', 'seed']
    .filter((k) => cfg[k] !== undefined)
    .map((k) => `${k} ${Array.isArray(cfg[k]) ? (cfg[k] as unknown[]).join(',') : String(cfg[k])}`);
  if (desc.length > 0) lines.push(desc.join(' · '), '');
  lines.push(`${s.ops} ops, ${s.watchRecords} watch requests, ${s.durationS.toFixed(1)} s. Details: timeline.html, perf.csv, results.json.`, '');
  lines.push('| checker | verdict | witness |', '|---|---|---|');
  if (s.checkers.length === 0) lines.push('| (none) | unknown | no checker results |');
  for (const c of s.checkers) {
    const first = c.anomalies[0];
    const unknown = typeof c.stats['unknown'] === 'string' ? c.stats['unknown'] : '';
    const witness = first !== undefined ? `${first.type}: ${first.message}${first.events.length > 0 ? ` (events ${first.events.join(', ')})` : ''}` : c.valid === 'unknown' ? unknown : '';
    const more = c.anomalies.length > 1 ? ` (+${c.anomalies.length - 1} more)` : '';
    lines.push(`| ${cell(c.checker)} | ${verdictText(c.valid)} | ${cell(witness + more)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
