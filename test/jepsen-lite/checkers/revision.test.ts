import { describe, expect, it } from 'vitest';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { generateAppendHistory, generateRegisterHistory } from '../../../jepsen-lite/checkers/generate.js';
import { checkRevisions } from '../../../jepsen-lite/checkers/revision.js';
import { HistoryBuilder, collectorRecord, indexOf, put } from './builder.js';

describe('revision checks', () => {
  it('pass generated register and append histories', () => {
    expect(checkRevisions(generateRegisterHistory({ seed: 1, ops: 2000, infoRate: 0.05 }).events).valid).toBe(true);
    expect(checkRevisions(generateAppendHistory({ seed: 1, txns: 1000 }).events).valid).toBe(true);
  });

  it('report a response revision that went back within one process', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok', { revision: 5 })
      .op(1, 'read', [2, 3], { key: 'y' }, 'ok', { value: null, revision: 4 })
      .build();
    const r = checkRevisions(ev);
    expect(r.valid).toBe(false);
    expect(r.anomalies.map((a) => a.type)).toContain('revision-went-back');
  });

  it('report a write that began after another completed but got a smaller revision', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok', { revision: 5 })
      .op(2, 'write', [2, 3], { key: 'y', value: 1 }, 'ok', { revision: 5 })
      .build();
    const r = checkRevisions(ev);
    expect(r.anomalies.map((a) => a.type)).toEqual(['realtime-write-order']);
  });

  it('report a stale read by mod_revision, an absent read after a write, and a stale header', () => {
    const ev = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'x', value: 1 }, 'ok', { revision: 3 })
      .op(1, 'write', [2, 3], { key: 'x', value: 2 }, 'ok', { revision: 4 })
      .op(2, 'read', [5, 6], { key: 'x' }, 'ok', { value: 1, mod_revision: 3, revision: 4 })
      .op(3, 'read', [5, 6], { key: 'x' }, 'ok', { value: null, revision: 4 })
      .op(4, 'read', [5, 6], { key: 'z' }, 'ok', { value: null, revision: 2 })
      .build();
    const r = checkRevisions(ev);
    const types = r.anomalies.map((a) => a.type).sort();
    expect(types).toEqual(['stale-header', 'stale-read', 'stale-read']);
    const stale = r.anomalies.find((a) => a.type === 'stale-read')!;
    expect(stale.events).toContain(indexOf(ev, (e) => e.f === 'read' && e.process === 2));
  });

  it('report collectors that disagree and state hashes that differ', () => {
    const { anomalies } = buildCommittedLog([collectorRecord('c1', [put('a', '1', 2, 2, 1)]), collectorRecord('c2', [put('a', '2', 2, 2, 1)])]);
    expect(anomalies).toHaveLength(1);
    const r = checkRevisions([], { collectorAnomalies: anomalies, hashes: { n1: { revision: 9, hash: 1 }, n2: { revision: 9, hash: 2 } } });
    expect(r.anomalies.map((a) => a.type).sort()).toEqual(['collectors-differ', 'hash-mismatch']);
    expect(checkRevisions([], { hashes: { n1: { revision: 9, hash: 1 }, n2: { revision: 9, hash: 1 } } }).valid).toBe(true);
    expect(checkRevisions([], { hashes: { n1: { revision: 9, hash: 1 }, n2: { revision: 8, hash: 1 } } }).valid).toBe('unknown');
  });

  it('compare collectors only where both vouched: a collector that stopped early is not a disagreement', () => {
    const all = [put('a', '1', 2, 2, 1), put('b', '1', 3, 3, 1), put('a', '2', 4, 2, 2)];
    const { log, anomalies } = buildCommittedLog([collectorRecord('c1', all), collectorRecord('c2', all), collectorRecord('c3', all.slice(0, 1))]);
    expect(anomalies).toEqual([]);
    expect(log!.coverage.map((c) => [c.name, c.complete])).toEqual([['c1', true], ['c2', true], ['c3', false]]);
    expect(checkRevisions([], { collectorAnomalies: anomalies }).valid).toBe(true);
  });
});
