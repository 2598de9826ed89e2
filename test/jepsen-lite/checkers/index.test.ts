import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAppendHistory, generateRegisterHistory } from '../../../jepsen-lite/checkers/generate.js';
import { checkRun, checkRunDir } from '../../../jepsen-lite/checkers/index.js';
import type { HistoryEvent } from '../../../jepsen-lite/history.js';

describe('checkRun', () => {
  it('runs the checkers that apply and combines their verdicts', () => {
    const h = generateRegisterHistory({ seed: 5, ops: 900, infoRate: 0.05 });
    const nemesis: HistoryEvent = { index: h.events.length, time_ns: h.events[h.events.length - 1]!.time_ns + 1, process: 'nemesis', type: 'info', f: 'start-partition', value: { isolate: 'n1' } };
    const r = checkRun({ events: [...h.events, nemesis], watches: h.watches, facts: { hashes: { n1: { revision: 3, hash: 'a' }, n2: { revision: 3, hash: 'a' } } } });
    expect(Object.keys(r.checkers).sort()).toEqual(['register', 'revision']);
    expect(r.valid).toBe(true);
    expect(r.committedLog?.fromRevision).toBe(1);

    const a = generateAppendHistory({ seed: 5, txns: 300 });
    const ra = checkRun({ events: a.events });
    expect(Object.keys(ra.checkers).sort()).toEqual(['append', 'append-replay', 'revision']);
    expect(ra.valid).toBe(true);

    const bad = checkRun({ events: [], facts: { health: { nodes: [{ node: 'n1', log: 'panic: boom\n' }] } } });
    expect(bad.valid).toBe(false);
    expect(bad.checkers['health']?.valid).toBe(false);
  });

  it('reads a run directory: history.jsonl and watch/*.jsonl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jl-check-'));
    try {
      const h = generateRegisterHistory({ seed: 6, ops: 300 });
      await writeFile(join(dir, 'history.jsonl'), h.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
      await mkdir(join(dir, 'watch'));
      await writeFile(join(dir, 'watch', 'collector-n1.jsonl'), h.watches.map((w) => JSON.stringify(w)).join('\n') + '\n');
      const r = await checkRunDir(dir);
      expect(r.valid).toBe(true);
      expect(r.committedLog?.collectors).toEqual(['collector-n1']);
      expect(r.checkers['register']?.stats['ops']).toBe(300);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
