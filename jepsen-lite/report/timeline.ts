/**
 * timeline.html (item 34): one self-contained file. The run's data goes in as JSON, uPlot's JS
 * and CSS are read from node_modules when the report is written and inlined, and nothing is
 * fetched when the page opens (no CDN, works from a CI artifact).
 *
 * The data is compact: each op is [process, f, type, start_s, end_s, key, invoke, complete]
 * with f/type/key as indexes into lists, and `events` holds the history's client events by index
 * (hover shows them). Nemesis bands and node segments are in seconds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HistoryEvent } from '../history.js';
import type { Band, NodeSegment, ReportChecker, ReportOp } from './model.js';
import { throughput } from './perf.js';
import { TIMELINE_APP } from './timeline-app.js';

const NS_PER_S = 1e9;
const NS_PER_MS = 1e6;
/** Past this many events, hover shows only the op summary (keeps the page loadable). */
export const MAX_EMBEDDED_EVENTS = 400_000;

export interface TimelineInput {
  readonly title: string;
  readonly history: readonly HistoryEvent[];
  readonly ops: readonly ReportOp[];
  readonly end_ns: number;
  readonly bands: readonly Band[];
  readonly nodes: readonly string[];
  readonly segments: readonly NodeSegment[];
  readonly checkers: readonly ReportChecker[];
}

let uplotCache: { js: string; css: string } | undefined;

/** uPlot's browser build and stylesheet, from the installed package. */
export function uplotAssets(): { js: string; css: string } {
  if (uplotCache !== undefined) return uplotCache;
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('uplot'));
  uplotCache = { js: readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8') };
  return uplotCache;
}

/** Text safe inside <script> and <style>: no closing tag can end the element early. */
function inlineSafe(s: string): string {
  return s.replace(/<\/(script|style)/gi, '<\\/$1');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits));

export function timelineData(t: TimelineInput): Record<string, unknown> {
  const fs: string[] = [];
  const keys: string[] = [];
  const types = ['ok', 'fail', 'info'];
  const idx = (list: string[], v: string): number => {
    let i = list.indexOf(v);
    if (i < 0) i = list.push(v) - 1;
    return i;
  };
  const keyIdx = new Map<string, number>();
  const ops = t.ops.map((o) => {
    let k = -1;
    if (o.key !== undefined) {
      k = keyIdx.get(o.key) ?? -1;
      if (k < 0) {
        k = keys.push(o.key) - 1;
        keyIdx.set(o.key, k);
      }
    }
    return [o.process, idx(fs, o.f), types.indexOf(o.type), round(o.start_ns / NS_PER_S), round(o.end_ns / NS_PER_S), k, o.invoke, o.complete ?? -1];
  });
  const events: Record<number, HistoryEvent> = {};
  if (t.history.length <= MAX_EMBEDDED_EVENTS) for (const e of t.history) events[e.index] = e;
  // Latency: one x (op start) shared by three y series, null where the op is another type.
  const done = t.ops.filter((o) => o.complete !== undefined);
  const lat: (number | null)[][] = [[], [], [], []];
  for (const o of done) {
    lat[0]!.push(round(o.start_ns / NS_PER_S));
    const ms = round((o.end_ns - o.start_ns) / NS_PER_MS, 3);
    for (let i = 0; i < 3; i++) lat[i + 1]!.push(types[i] === o.type ? Math.max(ms, 0.001) : null);
  }
  const seconds = Math.ceil(t.end_ns / NS_PER_S) + 1;
  const thr: number[][] = [[], [], [], []];
  for (let s = 0; s < seconds; s++) {
    thr[0]!.push(s);
    for (let i = 1; i <= 3; i++) thr[i]!.push(0);
  }
  for (const x of throughput(t.ops)) {
    const row = thr[types.indexOf(x.type) + 1];
    if (row !== undefined && x.second < seconds) row[x.second] = (row[x.second] ?? 0) + x.count;
  }
  return {
    title: t.title,
    end_s: round(t.end_ns / NS_PER_S),
    fs,
    keys,
    types,
    ops,
    events,
    bands: t.bands.map((b) => ({ label: b.label, s: round(b.start_ns / NS_PER_S), e: round(b.end_ns / NS_PER_S) })),
    nodes: t.nodes,
    segments: t.segments.map((s) => ({ node: s.node, state: s.state, s: round(s.start_ns / NS_PER_S), e: round(s.end_ns / NS_PER_S), leader: s.leader, ...(s.term === undefined ? {} : { term: s.term }) })),
    checkers: t.checkers,
    latency: lat,
    throughput: thr,
  };
}

const CSS = `
body { font: 13px/1.4 system-ui, sans-serif; margin: 12px; color: #222; }
h1 { font-size: 18px; margin: 0 0 8px; }
#controls { margin: 6px 0; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
#timeline { overflow: auto; max-height: 70vh; border: 1px solid #ccc; position: relative; }
#tl { display: block; cursor: grab; }
#tip { position: absolute; display: none; background: #fffff4; border: 1px solid #999; padding: 4px 6px; font: 11px monospace; white-space: pre; max-width: 640px; max-height: 420px; overflow: hidden; pointer-events: none; z-index: 10; }
#anomaly { white-space: pre-wrap; font: 12px monospace; background: #f7f7f7; padding: 6px; max-height: 300px; overflow: auto; }
.checker { margin: 4px 0; padding: 4px 6px; border-left: 4px solid #999; }
.checker.v-true { border-color: #3a9a4a; } .checker.v-false { border-color: #d00; } .checker.v-unknown { border-color: #f0a830; }
.checker ul { margin: 2px 0 2px 16px; padding: 0; max-height: 160px; overflow: auto; }
.stats { color: #666; font-size: 11px; }
.legend span { display: inline-block; width: 12px; height: 10px; margin: 0 3px 0 8px; vertical-align: middle; }
`;

export function timelineHtml(t: TimelineInput): string {
  const { js, css } = uplotAssets();
  const data = JSON.stringify(timelineData(t)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(t.title)}</title>
<style>${inlineSafe(css)}</style>
<style>${CSS}</style>
</head><body>
<h1>${escapeHtml(t.title)}</h1>
<div id="checkers"></div>
<div id="controls">
  <label>key <input id="fkey" placeholder="substring"></label>
  <label>process <input id="fproc" placeholder="e.g. 3, 7"></label>
  <button id="reset">reset zoom</button>
  <span class="legend"><span style="background:#3a9a4a"></span>ok<span style="background:#e879a6"></span>fail<span style="background:#f0a830"></span>info<span style="background:rgba(120,120,200,0.3)"></span>nemesis</span>
  <span>wheel: zoom · drag: pan · hover: op JSON</span>
</div>
<div id="timeline"><canvas id="tl"></canvas></div>
<div id="tip"></div>
<pre id="anomaly"></pre>
<div id="plots"><div id="latency"></div><div id="throughput"></div></div>
<script type="application/json" id="jl-data">${data}</script>
<script>${inlineSafe(js)}</script>
<script>${inlineSafe(TIMELINE_APP)}</script>
</body></html>
`;
}
