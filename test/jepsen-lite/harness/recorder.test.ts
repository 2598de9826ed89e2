import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readJsonl, type HistoryEvent, type WatchRecord } from '../../../jepsen-lite/history.js';
import { FileRecorder } from '../../../jepsen-lite/recorder.js';

describe('FileRecorder', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('numbers and time-stamps events in call order, writes watch records per watcher, flushes at close', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jl-rec-'));
    dirs.push(dir);
    const r = new FileRecorder(dir, { flushMs: 60_000, maxBufferBytes: 200 });
    const p = r.newProcess();
    expect(r.newProcess()).toBe(p + 1);
    const inv = r.client({ process: p, type: 'invoke', f: 'write', key: 'k', value: 1, node: 'n1' });
    r.nemesis('start-kill', { targets: ['n2'] });
    const ok = r.client({ process: p, type: 'ok', f: 'write', key: 'k', value: 1, node: 'n1', revision: 5 });
    const given = r.client({ process: p, type: 'invoke', f: 'read', key: 'k', time_ns: ok.time_ns + 1 });
    expect(given.time_ns).toBe(ok.time_ns + 1);
    expect(inv.index).toBe(0);
    expect(ok.time_ns).toBeGreaterThanOrEqual(inv.time_ns);
    const w: WatchRecord = { watcher: 'w-1', node: 'n1', time_ns: 1, key: 'a', start_revision: 1, prev_kv: false, progress_notify: false, responses: [] };
    r.watch(w);
    expect(() => r.watch({ ...w, watcher: '../evil' })).toThrow();
    expect(() => r.client({ process: 'nemesis' as unknown as number, type: 'ok', f: 'read' })).toThrow();
    r.close();
    expect(() => r.nemesis('late')).toThrow();
    const events = await readJsonl<HistoryEvent>(path.join(dir, 'history.jsonl'));
    expect(events.map((e) => [e.index, e.process, e.type, e.f])).toEqual([
      [0, p, 'invoke', 'write'],
      [1, 'nemesis', 'info', 'start-kill'],
      [2, p, 'ok', 'write'],
      [3, p, 'invoke', 'read'],
    ]);
    expect(Object.keys(events[0] as object).slice(0, 2)).toEqual(['index', 'time_ns']);
    expect(await readJsonl<WatchRecord>(path.join(dir, 'watch', 'w-1.jsonl'))).toEqual([w]);
    expect(r.counts).toMatchObject({ invoke: 2, ok: 1, nemesis: 1 });
  });
});
