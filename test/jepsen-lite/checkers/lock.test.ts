import { describe, expect, it } from 'vitest';
import { checkLock } from '../../../jepsen-lite/checkers/lock.js';
import { HistoryBuilder } from './builder.js';

/** Two clients take lock L in turn; `overlap` makes p2 acquire before p1 releases. */
function locks(o: { overlap: boolean; tokens?: [number, number]; writeTimes?: [number, number] }) {
  const [t1, t2] = o.tokens ?? [10, 20];
  const [w1, w2] = o.writeTimes ?? [20, 60];
  return new HistoryBuilder()
    .op(1, 'lock-acquire', [0, 10], { key: 'L' }, 'ok', { mod_revision: t1 })
    .op(1, 'lock-write', [w1, w1 + 5], { key: 'res', value: 1 }, 'ok')
    .op(1, 'lock-release', [o.overlap ? 80 : 40, o.overlap ? 85 : 45], { key: 'L' }, 'ok')
    .op(2, 'lock-acquire', [30, 50], { key: 'L' }, 'ok', { mod_revision: t2 })
    .op(2, 'lock-write', [w2, w2 + 5], { key: 'res', value: 2 }, 'ok')
    .op(2, 'lock-release', [90, 95], { key: 'L' }, 'ok')
    .build();
}

describe('lock checks', () => {
  it('pass holders that take turns', () => {
    expect(checkLock(locks({ overlap: false })).valid).toBe(true);
  });

  it('report overlapping lock holders without fencing', () => {
    const r = checkLock(locks({ overlap: true }));
    expect(r.valid).toBe(false);
    expect(r.anomalies[0]!.type).toBe('lock-overlap');
    expect(r.anomalies[0]!.events.length).toBeGreaterThanOrEqual(4);
  });

  it('with fencing, overlap is tolerated but a smaller token after a larger one is not', () => {
    expect(checkLock(locks({ overlap: true }), { fencing: true }).valid).toBe(true);
    // p1 (token 10) writes at 70, after p2 (token 20) wrote at 60.
    const r = checkLock(locks({ overlap: true, writeTimes: [70, 60] }), { fencing: true });
    expect(r.anomalies.map((a) => a.type)).toEqual(['fencing-token-regressed']);
  });
});
