import { describe, expect, it } from 'vitest';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { generateRegisterHistory } from '../../../jepsen-lite/checkers/generate.js';
import { checkRegister } from '../../../jepsen-lite/checkers/register.js';
import type { ClientEvent, HistoryEvent } from '../../../jepsen-lite/history.js';
import { HistoryBuilder, collectorRecord, indexOf, put, resp, watchRecord } from './builder.js';

describe('register linearizability: good histories pass', () => {
  it('passes generated concurrent histories with info ops, with and without the committed log', () => {
    for (const seed of [1, 2, 3]) {
      const h = generateRegisterHistory({ seed, ops: 1500, infoRate: 0.05 });
      const { log } = buildCommittedLog(h.watches);
      const withLog = checkRegister(h.events, { committed: log! });
      expect(withLog.valid, JSON.stringify(withLog.anomalies[0])).toBe(true);
      expect(withLog.stats['infoDropped']).toBeGreaterThan(0);
      expect(checkRegister(h.events).valid).toBe(true);
    }
  });

  it('linearizes a read concurrent with a write either way', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 10], { key: 'x', value: 1 }, 'ok', { revision: 2 })
      .op(2, 'read', [1, 3], { key: 'x' }, 'ok', { value: null })
      .op(3, 'read', [2, 4], { key: 'x' }, 'ok', { value: 1, mod_revision: 2 })
      .build();
    expect(checkRegister(ev).valid).toBe(true);
  });

  it('accepts cas with expected null as create-if-absent, and a cas_mismatch that found another value', () => {
    const ev = new HistoryBuilder()
      .op(1, 'cas', [0, 1], { key: 'x', expected: null, value: 1 }, 'ok', { revision: 2 })
      .op(2, 'cas', [2, 3], { key: 'x', expected: null, value: 2 }, 'fail', { error: 'cas_mismatch' })
      .op(2, 'cas', [4, 5], { key: 'x', expected: 1, value: 3 }, 'ok', { revision: 3 })
      .op(3, 'read', [6, 7], { key: 'x' }, 'ok', { value: 3, mod_revision: 3 })
      .build();
    expect(checkRegister(ev).valid).toBe(true);
  });
});

describe('register linearizability: positive controls', () => {
  it('reports a stale read, with the partial linearization and the op that cannot be placed', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 10], { key: 'x', value: 1 }, 'ok')
      .op(1, 'write', [20, 30], { key: 'x', value: 2 }, 'ok')
      .op(2, 'read', [40, 50], { key: 'x' }, 'ok', { value: 1 })
      .build();
    const r = checkRegister(ev);
    expect(r.valid).toBe(false);
    const a = r.anomalies[0]!;
    expect(a.type).toBe('nonlinearizable');
    expect(a.key).toBe('x');
    const readIdx = indexOf(ev, (e) => e.f === 'read');
    expect(a.events).toContain(readIdx);
    const d = a.details as { partial: number[]; stuck: number };
    expect(d.stuck).toBe(readIdx);
    expect(d.partial).toEqual([indexOf(ev, (e) => e.value === 1), indexOf(ev, (e) => e.value === 2)]);
  });

  it('reports a lost write (an acknowledged write no later read sees)', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok')
      .op(2, 'write', [2, 3], { key: 'x', value: 2 }, 'ok')
      .op(3, 'read', [4, 5], { key: 'x' }, 'ok', { value: 1 })
      .op(3, 'read', [6, 7], { key: 'x' }, 'ok', { value: 1 })
      .build();
    expect(checkRegister(ev).valid).toBe(false);
  });

  it('reports a read of a value never written, and a cas that "failed" although the value matched', () => {
    const garbage = new HistoryBuilder().op(1, 'read', [0, 1], { key: 'x' }, 'ok', { value: 42 }).build();
    expect(checkRegister(garbage).valid).toBe(false);
    const casMiss = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok')
      .op(2, 'cas', [2, 3], { key: 'x', expected: 1, value: 2 }, 'fail', { error: 'cas_mismatch' })
      .build();
    expect(checkRegister(casMiss).valid).toBe(false);
  });

  it('is revision-aware: a read must see the write of its mod_revision', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok', { revision: 5 })
      .op(2, 'read', [2, 3], { key: 'x' }, 'ok', { value: 1, mod_revision: 4 })
      .build();
    expect(checkRegister(ev).valid).toBe(false);
    expect(checkRegister(ev, { revisionAware: false }).valid).toBe(true);
    // Two writes whose revisions contradict their real-time order.
    const order = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok', { revision: 7 })
      .op(1, 'write', [2, 3], { key: 'x', value: 2 }, 'ok', { revision: 6 })
      .op(2, 'read', [4, 5], { key: 'x' }, 'ok', { value: 2, mod_revision: 6 })
      .build();
    expect(checkRegister(order).valid).toBe(false);
  });

  it('drops an info write whose value never committed, and cuts one that did to its first observation', () => {
    const b = () =>
      new HistoryBuilder()
        .op(1, 'write', [0, undefined], { key: 'x', value: 9 })
        .op(2, 'write', [20, 21], { key: 'x', value: 10 }, 'ok', { revision: 3 })
        .op(3, 'read', [30, 31], { key: 'x' }, 'ok', { value: 10, mod_revision: 3 })
        .op(3, 'read', [40, 41], { key: 'x' }, 'ok', { value: 9, mod_revision: 4 });
    const committed = buildCommittedLog([collectorRecord('c1', [put('x', '10', 3, 3, 1), put('x', '9', 4, 3, 2)])]).log!;
    // Unresolved, the info write may land after 10: fine.
    expect(checkRegister(b().build(), { committed }).valid).toBe(true);
    // A watcher saw 9 committed at t=5, before 10 was written: then the read of 9 at 40 is stale.
    const watcher = watchRecord('w1', [resp([put('x', '9', 2, 2, 1)], { time_ns: 5 })], { key: 'x' });
    const committed2 = buildCommittedLog([collectorRecord('c1', [put('x', '9', 2, 2, 1), put('x', '10', 3, 2, 2)])]).log!;
    const cut = new HistoryBuilder()
      .op(1, 'write', [0, undefined], { key: 'x', value: 9 })
      .op(2, 'write', [20, 21], { key: 'x', value: 10 }, 'ok', { revision: 3 })
      .op(3, 'read', [40, 41], { key: 'x' }, 'ok', { value: 9, mod_revision: 2 })
      .build();
    expect(checkRegister(cut, { committed: committed2, revisionAware: false }).valid).toBe(true);
    expect(checkRegister(cut, { committed: committed2, watches: [watcher], revisionAware: false }).valid).toBe(false);
    // A value absent from a complete log was never applied: a read of it is then impossible... and
    // without the read, the op is dropped.
    const dropped = new HistoryBuilder()
      .op(1, 'write', [0, undefined], { key: 'x', value: 9 })
      .op(2, 'read', [40, 41], { key: 'x' }, 'ok', { value: null })
      .build();
    const empty = buildCommittedLog([collectorRecord('c1', [])]).log!;
    const r = checkRegister(dropped, { committed: empty });
    expect(r.valid).toBe(true);
    expect(r.stats['infoDropped']).toBe(1);
  });

  it('says unknown, never valid, when the per-key budget runs out', () => {
    const h = generateRegisterHistory({ seed: 7, ops: 300 });
    const r = checkRegister(h.events, { maxStepsPerKey: 10 });
    expect(r.valid).toBe('unknown');
    expect(String(r.stats['unknown'])).toContain('budget');
  });

  it('finds a corrupted read in every generated history (mutation fuzz)', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const h = generateRegisterHistory({ seed, ops: 600 });
      const reads = h.events.filter((e): e is ClientEvent => e.type === 'ok' && e.f === 'read' && e.value !== null);
      const victim = reads[Math.floor(reads.length / 2)]!;
      const mutated: HistoryEvent[] = h.events.map((e) => (e === victim ? { ...victim, value: -1 } : e));
      const r = checkRegister(mutated);
      expect(r.valid).toBe(false);
      expect(r.anomalies[0]!.key).toBe(victim.key);
    }
  });
});
