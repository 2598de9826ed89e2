/**
 * The report from a small synthetic run: files written, timeline.html self-contained (no
 * http(s) script or stylesheet, uPlot inlined), its data holding the process lanes, nemesis
 * bands, node lanes, anomalies and plot series; and its page script runs against a stub DOM.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClientEvent, HistoryEvent, NemesisEvent } from '../../../jepsen-lite/history.js';
import { nemesisBands, normalizeResults, pairHistory, writeReport } from '../../../jepsen-lite/report/index.js';
import { TIMELINE_APP } from '../../../jepsen-lite/report/timeline-app.js';

const MS = 1e6;
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function history(): HistoryEvent[] {
  const ev: HistoryEvent[] = [];
  const c = (e: Omit<ClientEvent, 'index'>): void => void ev.push({ ...e, index: ev.length });
  const n = (e: Omit<NemesisEvent, 'index' | 'process' | 'type'>): void => void ev.push({ ...e, process: 'nemesis', type: 'info', index: ev.length });
  c({ time_ns: 0, process: 0, type: 'invoke', f: 'write', key: 'k1', value: 1, node: 'n1' });
  c({ time_ns: 1 * MS, process: 1, type: 'invoke', f: 'read', key: 'k1', node: 'n2' });
  c({ time_ns: 4 * MS, process: 0, type: 'ok', f: 'write', key: 'k1', value: 1, node: 'n1', revision: 5, mod_revision: 5, version: 1 });
  c({ time_ns: 5 * MS, process: 1, type: 'ok', f: 'read', key: 'k1', value: null, node: 'n2', revision: 5 });
  n({ time_ns: 100 * MS, f: 'start-partition', value: { targets: ['n1'] } });
  c({ time_ns: 200 * MS, process: 0, type: 'invoke', f: 'cas', key: 'k1', value: 2, expected: 1, node: 'n1' });
  c({ time_ns: 1200 * MS, process: 0, type: 'info', f: 'cas', key: 'k1', error: 'DEADLINE_EXCEEDED', node: 'n1' });
  c({ time_ns: 1300 * MS, process: 2, type: 'invoke', f: 'read', key: 'k2', node: 'n3' });
  c({ time_ns: 1310 * MS, process: 2, type: 'fail', f: 'read', key: 'k2', error: 'UNAVAILABLE', node: 'n3' });
  n({ time_ns: 1500 * MS, f: 'stop-partition' });
  n({ time_ns: 1600 * MS, f: 'kill', value: { node: 'n2' } });
  n({ time_ns: 1900 * MS, f: 'restart', value: { node: 'n2' } });
  c({ time_ns: 2000 * MS, process: 3, type: 'invoke', f: 'read', key: 'k1', node: 'n3' });
  return ev;
}

const results = {
  valid: false,
  checkers: {
    register: {
      checker: 'register',
      valid: false,
      anomalies: [{ type: 'nonlinearizable', key: 'k1', message: 'key k1: p1 read k1 null ok cannot be placed', events: [1, 3, 0, 2], details: { partial: [0], stuck: 1, partialOps: ['p0 write k1 1 ok @r5'] } }],
      stats: { keys: 2 },
    },
    revision: { checker: 'revision', valid: true, anomalies: [], stats: {} },
    // A result missing fields must not break the report.
    watch: { valid: 'unknown' },
  },
};

describe('report', () => {
  it('pairs ops, leaving an unfinished op as info to the end, and pairs nemesis intervals', () => {
    const h = history();
    const { ops, end_ns } = pairHistory(h);
    expect(ops.map((o) => [o.process, o.f, o.type])).toEqual([
      [0, 'write', 'ok'],
      [1, 'read', 'ok'],
      [0, 'cas', 'info'],
      [2, 'read', 'fail'],
      [3, 'read', 'info'],
    ]);
    expect(ops[4]?.end_ns).toBe(end_ns);
    expect(nemesisBands(h, end_ns).map((b) => [b.label, b.start_ns / MS, b.end_ns / MS])).toEqual([
      ['partition n1', 100, 1500],
      ['kill n2', 1600, 1900],
    ]);
    expect(normalizeResults(results).map((c) => [c.checker, c.valid, c.anomalies.length])).toEqual([
      ['register', false, 1],
      ['revision', true, 0],
      ['watch', 'unknown', 0],
    ]);
  });

  it('writes summary.md, perf.csv and a self-contained timeline.html', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jl-report-'));
    dirs.push(dir);
    const nodeEvents = [
      { time_ns: 0, node: 'n1', state: 'up', leader: true, term: 2 },
      { time_ns: 100 * MS, node: 'n1', state: 'partitioned', leader: false },
      { time_ns: 1600 * MS, node: 'n2', state: 'killed' },
      { time_ns: 1900 * MS, node: 'n2', state: 'up', leader: true, term: 3 },
    ];
    const files = await writeReport(dir, { history: history(), watchRecords: [], results, config: { workload: 'register', nemeses: ['partition', 'kill'], seed: 7, nodes: 3 }, nodeEvents });

    const summary = await readFile(files.summary, 'utf8');
    expect(summary).toContain('| register | INVALID | nonlinearizable: key k1');
    expect(summary).toContain('| revision | valid |');
    expect(summary).toContain('| watch | unknown |');

    const perf = (await readFile(files.perf, 'utf8')).trim().split('\n');
    expect(perf[0]).toBe('kind,time_s,f,type,process,latency_ms,ops_per_s');
    expect(perf.filter((l) => l.startsWith('op,'))).toHaveLength(4); // the unfinished op has no latency
    expect(perf).toContain('op,0.000000,write,ok,0,4.000,');
    expect(perf.some((l) => l.startsWith('throughput,0,write,ok,'))).toBe(true);

    const html = await readFile(files.timeline, 'utf8');
    // Self-contained: no external script or stylesheet, nothing loaded over the network.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:\/\//i);
    expect(html).not.toMatch(/@import/);
    expect(html).toContain('var uPlot'); // the library inlined
    const m = /<script type="application\/json" id="jl-data">([^]*?)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    const data = JSON.parse(m?.[1] ?? '{}') as {
      ops: number[][];
      bands: { label: string; s: number; e: number }[];
      nodes: string[];
      segments: { node: string; state: string; leader: boolean; term?: number }[];
      checkers: { checker: string; anomalies: { details: { partial: number[] } }[] }[];
      latency: (number | null)[][];
      throughput: number[][];
      events: Record<string, unknown>;
    };
    expect(new Set(data.ops.map((o) => o[0]))).toEqual(new Set([0, 1, 2, 3])); // a lane per process
    expect(data.bands).toEqual([
      { label: 'partition n1', s: 0.1, e: 1.5 },
      { label: 'kill n2', s: 1.6, e: 1.9 },
    ]);
    expect(data.nodes).toEqual(['n1', 'n2', 'n3']);
    expect(data.segments).toContainEqual({ node: 'n2', state: 'killed', s: 1.6, e: 1.9, leader: false });
    expect(data.segments).toContainEqual({ node: 'n1', state: 'up', s: 0, e: 0.1, leader: true, term: 2 });
    expect(data.checkers[0]?.anomalies[0]?.details.partial).toEqual([0]);
    expect(data.latency).toHaveLength(4);
    expect(data.latency[0]).toHaveLength(4);
    expect(data.latency[1]).toEqual([4, 4, null, null]); // ok series: the write and the read
    expect(data.throughput[0]).toEqual([0, 1, 2]); // seconds 0..ceil(end)
    expect(Object.keys(data.events)).toHaveLength(history().length);
  });

  it('the page script runs: draws lanes, shows the first anomaly and builds both plots', () => {
    const h = history();
    const html = `<script type="application/json" id="jl-data">${JSON.stringify({ title: 't', end_s: 2, fs: ['write'], keys: ['k1'], types: ['ok', 'fail', 'info'], ops: [[0, 0, 0, 0, 0.004, 0, 0, 2], [1, 0, 0, 0.001, 0.005, 0, 1, 3]], events: { 0: h[0], 1: h[1], 2: h[2], 3: h[3] }, bands: [{ label: 'partition', s: 0.1, e: 1.5 }], nodes: ['n1'], segments: [{ node: 'n1', state: 'up', s: 0, e: 2, leader: true, term: 2 }], checkers: [{ checker: 'register', valid: false, anomalies: [{ type: 'nonlinearizable', message: 'm', events: [1, 3, 0, 2], details: { partial: [0], stuck: 1, partialOps: ['x'] } }], stats: {} }], latency: [[0], [4], [null], [null]], throughput: [[0, 1], [1, 0], [0, 0], [0, 0]] })}</script>`;
    const json = /id="jl-data">([^]*?)<\/script>/.exec(html)?.[1] ?? '';
    const calls: string[] = [];
    const plots: { opts: { hooks: { drawClear: ((u: unknown) => void)[] } }; data: unknown[] }[] = [];
    const clicks: ((e: { preventDefault: () => void }) => void)[] = [];
    // A DOM stub: every element accepts any call; the data element returns the JSON.
    const stub = (): unknown =>
      new Proxy(function () {}, {
        get(_t, p) {
          if (p === 'textContent') return json;
          if (p === 'clientWidth') return 1000;
          if (p === 'width' || p === 'height') return 1000;
          if (p === 'addEventListener') return (type: string, fn: (e: { preventDefault: () => void }) => void) => (type === 'click' ? clicks.push(fn) : undefined);
          if (p === 'getBoundingClientRect') return () => ({ left: 0, top: 0 });
          if (typeof p === 'string' && /^(fillRect|strokeRect|fillText|lineTo|arc)$/.test(p)) return () => calls.push(p);
          if (p === Symbol.toPrimitive) return () => 0;
          return stub();
        },
        set: () => true,
        apply: () => stub(),
      });
    const doc = { getElementById: () => stub(), createElement: () => stub() };
    const u = { ctx: stub(), bbox: { top: 0, height: 100 }, valToPos: (v: number) => v * 100 };
    const context = {
      document: doc,
      window: { devicePixelRatio: 1, addEventListener: () => undefined },
      uPlot: function (this: unknown, opts: (typeof plots)[number]['opts'], data: unknown[]) {
        plots.push({ opts, data });
      },
      JSON,
      Math,
      Object,
      String,
      Number,
      isNaN,
    };
    vm.runInNewContext(TIMELINE_APP, context);
    expect(calls).toContain('fillText'); // labels and axis
    expect(calls.filter((c) => c === 'fillRect').length).toBeGreaterThan(3); // band, node, op
    expect(plots).toHaveLength(2);
    for (const p of plots) p.opts.hooks.drawClear[0]?.(u);
    // The "first anomaly" link is the first click handler registered after the controls'.
    calls.length = 0;
    for (const fn of clicks) fn({ preventDefault: () => undefined });
    expect(calls).toContain('arc'); // the stuck op's red point
    expect(calls).toContain('lineTo');
  });
});
