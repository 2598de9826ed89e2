import { describe, expect, it } from 'vitest';
import { checkAppend } from '../../../jepsen-lite/checkers/append.js';
import { generateAppendHistory } from '../../../jepsen-lite/checkers/generate.js';
import { checkRevisionReplay } from '../../../jepsen-lite/checkers/replay.js';
import type { ClientEvent, HistoryEvent, MicroOp } from '../../../jepsen-lite/history.js';
import { HistoryBuilder } from './builder.js';

/** A txn op: the invoke carries reads as null, the completion what was read. */
function txn(b: HistoryBuilder, p: number, span: [number, number], ops: MicroOp[], type: 'ok' | 'fail' | 'info' = 'ok', revision?: number): HistoryBuilder {
  const inv: MicroOp[] = ops.map((m) => (m[0] === 'r' ? ['r', m[1], null] : m));
  return b.op(p, 'txn', span, { txn: inv }, type, type === 'ok' ? { txn: ops, ...(revision === undefined ? {} : { revision }) } : {});
}

const types = (r: { anomalies: readonly { type: string }[] }): string[] => [...new Set(r.anomalies.map((a) => a.type))].sort();

describe('list-append: good histories', () => {
  it('passes generated histories as strict serializable', () => {
    for (const seed of [1, 2]) {
      const h = generateAppendHistory({ seed, txns: 1500, infoRate: 0.05 });
      const r = checkAppend(h.events);
      expect(r.valid, JSON.stringify(r.anomalies[0])).toBe(true);
      expect(r.verdict).toBe('strict-serializable');
      expect(checkRevisionReplay(h.events).valid).toBe(true);
    }
  });
});

describe('list-append: positive controls', () => {
  it('G0: write cycle', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 10], [['append', 'x', 1], ['append', 'y', 1]]);
    txn(b, 2, [0, 10], [['append', 'x', 2], ['append', 'y', 2]]);
    txn(b, 3, [20, 30], [['r', 'x', [1, 2]], ['r', 'y', [2, 1]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toContain('G0');
    expect(r.verdict).toBe('none');
    expect(r.cycles[0]).toMatch(/^G0: T\d+ < T\d+ because .* \(ww\)/);
  });

  it('G1c: circular information flow', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 10], [['append', 'x', 1], ['r', 'y', [2]]]);
    txn(b, 2, [0, 10], [['append', 'y', 2], ['r', 'x', [1]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toEqual(['G1c']);
    expect(r.verdict).toBe('read-uncommitted');
    expect(r.anomalies[0]!.message).toMatch(/read 2 appended by T\d+ to y \(wr\)/);
  });

  it('G-single: read skew', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 10], [['append', 'x', 5], ['append', 'y', 6]]);
    txn(b, 2, [0, 10], [['r', 'x', []], ['r', 'y', [6]]]);
    txn(b, 3, [20, 30], [['r', 'x', [5]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toEqual(['G-single']);
    expect(r.verdict).toBe('read-committed');
  });

  it('G2-item: write skew, which snapshot isolation allows', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 10], [['r', 'x', []], ['r', 'y', []], ['append', 'x', 1]]);
    txn(b, 2, [0, 10], [['r', 'x', []], ['r', 'y', []], ['append', 'y', 2]]);
    txn(b, 3, [20, 30], [['r', 'x', [1]], ['r', 'y', [2]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toEqual(['G2-item']);
    expect(r.verdict).toBe('snapshot-isolation');
    expect(r.valid).toBe(false);
    expect(checkAppend(b.build(), { target: 'snapshot-isolation' }).valid).toBe(true);
  });

  it('G-single-realtime: a stale read only strict serializability forbids', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 1], [['append', 'x', 1]]);
    txn(b, 2, [2, 3], [['r', 'x', []]]);
    txn(b, 3, [4, 5], [['r', 'x', [1]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toEqual(['G-single-realtime']);
    expect(r.verdict).toBe('strong-session-serializable');
    expect(r.anomalies[0]!.message).toMatch(/completed \(index \d+\) before T\d+ began/);
  });

  it('G1a aborted read, G1b intermediate read', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 1], [['append', 'x', 1]], 'fail');
    txn(b, 2, [2, 3], [['r', 'x', [1]]]);
    txn(b, 3, [4, 5], [['append', 'y', 1], ['append', 'y', 2]]);
    txn(b, 4, [6, 7], [['r', 'y', [1]]]);
    expect(types(checkAppend(b.build()))).toEqual(expect.arrayContaining(['G1a', 'G1b']));
  });

  it('lost update', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 10], [['r', 'x', []], ['append', 'x', 1]]);
    txn(b, 2, [0, 10], [['r', 'x', []], ['append', 'x', 2]]);
    txn(b, 3, [20, 30], [['r', 'x', [1, 2]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toContain('lost-update');
    expect(r.verdict).toBe('read-committed');
  });

  it('duplicate elements, garbage elements, internal inconsistency, incompatible orders', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 1], [['append', 'x', 1], ['append', 'x', 2]]);
    txn(b, 2, [2, 3], [['r', 'x', [1, 1]]]);
    txn(b, 3, [4, 5], [['r', 'x', [1, 99]]]);
    txn(b, 4, [6, 7], [['append', 'z', 3], ['r', 'z', []]]);
    txn(b, 5, [8, 9], [['append', 'w', 4]]);
    txn(b, 6, [8, 9], [['append', 'w', 5]]);
    txn(b, 7, [10, 11], [['r', 'w', [4, 5]]]);
    txn(b, 8, [10, 11], [['r', 'w', [5, 4]]]);
    const r = checkAppend(b.build());
    expect(types(r)).toEqual(expect.arrayContaining(['duplicate-elements', 'garbage-elements', 'internal-inconsistency', 'incompatible-order']));
    expect(r.verdict).toBe('none');
  });

  it('finds a corrupted read in generated histories (mutation fuzz)', () => {
    for (const seed of [3, 4, 5]) {
      const h = generateAppendHistory({ seed, txns: 800 });
      // Replay skips keys an info txn appended to (it cannot place them): pick another key.
      const infoKeys = new Set(h.events.flatMap((e) => (e.type === 'info' ? (e.txn ?? []).map((m) => m[1]) : [])));
      const target = (m: MicroOp): boolean => m[0] === 'r' && Array.isArray(m[2]) && m[2].length > 3 && !infoKeys.has(m[1]);
      const victim = h.events.find((e): e is ClientEvent => e.type === 'ok' && (e.txn ?? []).some(target))!;
      const txnOps = victim.txn!.map((m): MicroOp => (target(m) && Array.isArray(m[2]) ? ['r', m[1], [m[2][0]!, ...m[2].slice(2)]] : m));
      const mutated: HistoryEvent[] = h.events.map((e) => (e === victim ? { ...victim, txn: txnOps } : e));
      // A read that skipped an element is not a prefix of the key's version order.
      const r = checkAppend(mutated);
      expect(r.valid).toBe(false);
      expect(types(r)).toContain('incompatible-order');
      expect(checkRevisionReplay(mutated).anomalies.map((a) => a.type)).toContain('replay-mismatch');
    }
  });
});

describe('revision replay', () => {
  it('reports a read that disagrees with the replay, and a revision against real time', () => {
    const b = new HistoryBuilder();
    txn(b, 1, [0, 1], [['append', 'x', 1]], 'ok', 10);
    txn(b, 2, [2, 3], [['append', 'x', 2], ['r', 'x', [1, 2]]], 'ok', 5);
    const r = checkRevisionReplay(b.build());
    expect(types(r)).toEqual(['replay-mismatch', 'replay-realtime']);
  });
});
