/**
 * Latency and throughput (Jepsen's perf checker, item 33): per-op latency, and completions per
 * second by f and type. perf.csv holds both in one table:
 *
 *   kind,time_s,f,type,process,latency_ms,ops_per_s
 *   op,1.204,write,ok,3,4.81,
 *   throughput,1,write,ok,,,212
 *
 * An op that never completed has no latency row (its end is unknown).
 */
import type { ReportOp } from './model.js';

const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;

export interface Throughput {
  /** Second since the run started. */
  readonly second: number;
  readonly f: string;
  readonly type: string;
  readonly count: number;
}

export function throughput(ops: readonly ReportOp[]): Throughput[] {
  const counts = new Map<string, number>();
  for (const o of ops) {
    if (o.complete === undefined) continue;
    const k = `${Math.floor(o.end_ns / NS_PER_S)}|${o.f}|${o.type}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out: Throughput[] = [];
  for (const [k, count] of counts) {
    const [s, f, type] = k.split('|') as [string, string, string];
    out.push({ second: Number(s), f, type, count });
  }
  out.sort((a, b) => a.second - b.second || (a.f < b.f ? -1 : a.f > b.f ? 1 : a.type < b.type ? -1 : 1));
  return out;
}

function csvField(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function perfCsv(ops: readonly ReportOp[]): string {
  const lines = ['kind,time_s,f,type,process,latency_ms,ops_per_s'];
  for (const o of ops) {
    if (o.complete === undefined) continue;
    lines.push(['op', (o.start_ns / NS_PER_S).toFixed(6), csvField(o.f), o.type, String(o.process), ((o.end_ns - o.start_ns) / NS_PER_MS).toFixed(3), ''].join(','));
  }
  for (const t of throughput(ops)) lines.push(['throughput', String(t.second), csvField(t.f), t.type, '', '', String(t.count)].join(','));
  return `${lines.join('\n')}\n`;
}
