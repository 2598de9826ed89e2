import { describe, expect, it } from 'vitest';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { checkWatch } from '../../../jepsen-lite/checkers/watch.js';
import type { WatchEventRecord, WatchRecord } from '../../../jepsen-lite/history.js';
import { collectorRecord, del, put, resp, watchRecord } from './builder.js';

// Committed: k1=a@2, k2=b@3, k1=c@4 and k2=d@4 (one txn), k1 deleted @5, k1=e@6 (re-create).
const k1a = put('k1', 'a', 2, 2, 1);
const k2b = put('k2', 'b', 3, 3, 1);
const k1c = put('k1', 'c', 4, 2, 2, { prev_kv: { key: 'k1', value: 'a', mod_revision: 2, create_revision: 2, version: 1 } });
const k2d = put('k2', 'd', 4, 3, 2, { prev_kv: { key: 'k2', value: 'b', mod_revision: 3, create_revision: 3, version: 1 } });
const k1del = del('k1', 5, { prev_kv: { key: 'k1', value: 'c', mod_revision: 4, create_revision: 2, version: 2 } });
const k1e = put('k1', 'e', 6, 6, 1);
const strip = (e: WatchEventRecord): WatchEventRecord => {
  const { prev_kv: _p, ...rest } = e;
  return rest;
};
const committedEvents = [k1a, k2b, k1c, k2d, k1del, k1e].map(strip);
const collectors = [collectorRecord('c-n1', committedEvents), collectorRecord('c-n2', committedEvents)];
const { log } = buildCommittedLog(collectors);
const committed = log!;

function check(w: WatchRecord, extra: Parameters<typeof checkWatch>[1] = {}): ReturnType<typeof checkWatch> {
  return checkWatch([...collectors, w], { committed, ...extra });
}
const types = (r: ReturnType<typeof checkWatch>): string[] => [...new Set(r.anomalies.map((a) => a.type))].sort();

describe('watch: good watches pass', () => {
  it('a prefix watch with prevKV from revision 2, split into per-revision responses, with progress', () => {
    const w = watchRecord('w1', [resp([k1a, k2b]), resp([k1c, k2d]), resp([k1del, k1e]), resp([], { revision: 6, progress_notify: true })], { start_revision: 2, prev_kv: true });
    const r = check(w);
    expect(r.valid, JSON.stringify(r.anomalies)).toBe(true);
    expect(r.stats['comparedEvents']).toBe(6);
  });

  it('a single-key watch from now, a NODELETE filter, and a resumed watch', () => {
    expect(check(watchRecord('w2', [resp([k1c].map(strip)), resp([k1del, k1e].map(strip))], { key: 'k1' })).valid).toBe(true);
    expect(check(watchRecord('w3', [resp([k1a, k1c, k1e].map(strip))], { key: 'k1', start_revision: 1, filters: ['NODELETE'] })).valid).toBe(true);
    expect(check(watchRecord('w4', [resp([k1c, k2d].map(strip))], { start_revision: 4 })).valid).toBe(true);
  });
});

describe('watch: positive controls', () => {
  it('a gap (a missed committed event)', () => {
    const r = check(watchRecord('w', [resp([k1a, k2b].map(strip)), resp([k1del, k1e].map(strip))], { start_revision: 2 }));
    expect(types(r)).toEqual(['watch-gap']);
    expect(r.anomalies[0]!.message).toContain('k1@4');
  });

  it('a split revision', () => {
    const r = check(watchRecord('w', [resp([k1a, k2b, k1c].map(strip)), resp([k2d, k1del, k1e].map(strip))], { start_revision: 2 }));
    expect(types(r)).toEqual(['watch-split-revision']);
    // Marked as a fragment, the split is allowed.
    const ok = check(watchRecord('w', [resp([k1a, k2b, k1c].map(strip), { fragment: true }), resp([k2d, k1del, k1e].map(strip))], { start_revision: 2 }));
    expect(ok.valid).toBe(true);
  });

  it('a wrong or missing prevKV, and a create that is not marked as one', () => {
    const wrong = { ...k1c, prev_kv: { key: 'k1', value: 'zzz', mod_revision: 2, create_revision: 2, version: 1 } };
    expect(types(check(watchRecord('w', [resp([wrong])], { key: 'k1', prev_kv: true })))).toEqual(['watch-prev-kv']);
    expect(types(check(watchRecord('w', [resp([strip(k1c)])], { key: 'k1', prev_kv: true })))).toEqual(['watch-prev-kv-missing']);
    const prevOnCreate = { ...k1e, prev_kv: { key: 'k1', value: 'c', mod_revision: 4, create_revision: 2, version: 2 } };
    expect(types(check(watchRecord('w', [resp([prevOnCreate])], { key: 'k1', prev_kv: true })))).toEqual(['watch-prev-kv']);
    const badCreate = { ...strip(k1e), version: 3 };
    expect(types(check(watchRecord('w', [resp([badCreate])], { key: 'k1' })))).toEqual(expect.arrayContaining(['watch-is-create']));
  });

  it('filter, order and uniqueness violations', () => {
    expect(types(check(watchRecord('w', [resp([strip(k2b)])], { key: 'k1' })))).toContain('watch-filter');
    expect(types(check(watchRecord('w', [resp([strip(k1del)])], { key: 'k1', filters: ['NODELETE'] })))).toContain('watch-filter');
    expect(types(check(watchRecord('w', [resp([strip(k1c)]), resp([strip(k1a)])], { key: 'k1' })))).toContain('watch-order');
    expect(types(check(watchRecord('w', [resp([strip(k1c)]), resp([strip(k1c)])], { key: 'k1' })))).toContain('watch-duplicate');
  });

  it('a progress notification that goes back or promises events that come later', () => {
    const back = check(watchRecord('w', [resp([strip(k1c)]), resp([], { revision: 3, progress_notify: true })], { key: 'k1' }));
    expect(types(back)).toContain('watch-bookmark');
    const early = check(watchRecord('w', [resp([], { revision: 5, progress_notify: true }), resp([strip(k1del)])], { key: 'k1', start_revision: 5 }));
    expect(types(early)).toContain('watch-bookmark');
    // A progress notification past a committed event that never came is a gap.
    const promise = check(watchRecord('w', [resp([], { revision: 6, progress_notify: true })], { key: 'k1', start_revision: 5 }));
    expect(types(promise)).toEqual(['watch-resumable']);
  });

  it('not resumable: the first event is not the first committed at the start revision', () => {
    const r = check(watchRecord('w', [resp([k1del, k1e].map(strip))], { key: 'k1', start_revision: 3 }));
    expect(types(r)).toEqual(['watch-resumable']);
  });

  it('compaction: a cancel that names a revision at or below the start, and a compacted start not canceled', () => {
    const spurious = check(watchRecord('w', [resp([], { canceled: true, compact_revision: 3 })], { key: 'k1', start_revision: 4 }));
    expect(types(spurious)).toEqual(['watch-compacted']);
    const fine = check(watchRecord('w', [resp([], { canceled: true, compact_revision: 5 })], { key: 'k1', start_revision: 4 }));
    expect(fine.valid).toBe(true);
    const notCanceled = check(watchRecord('w', [resp([k1c].map(strip))], { key: 'k1', start_revision: 4, time_ns: 100 }), { compactions: [{ revision: 5, time_ns: 50, node: 'n1' }] });
    expect(types(notCanceled)).toEqual(['watch-compacted']);
    // Another member answered the compaction: this one may apply it later, so no violation.
    const elsewhere = check(watchRecord('w', [resp([k1c].map(strip))], { key: 'k1', start_revision: 4, time_ns: 100 }), { compactions: [{ revision: 5, time_ns: 50, node: 'n2' }] });
    expect(types(elsewhere)).not.toContain('watch-compacted');
  });

  it('collectors that disagree, and no ground truth at all', () => {
    const bad = buildCommittedLog([collectors[0]!, collectorRecord('c-n3', committedEvents.slice(0, 4))]);
    const r = checkWatch([], { committed: bad.log!, collectorAnomalies: bad.anomalies });
    expect(types(r)).toEqual(['collectors-differ']);
    expect(checkWatch([watchRecord('w', [resp([strip(k1a)])], { key: 'k1' })]).valid).toBe('unknown');
  });
});

describe('watch: a committed log with a hole', () => {
  it('glues a reopened collector, marks the revisions it missed, and says unknown rather than gap', () => {
    const first = collectorRecord('c-n1', committedEvents.slice(0, 2));
    const reopened = watchRecord('c-n1', [resp(committedEvents.slice(4))], { key: '\u0000', range_end: '\u0000', start_revision: 5, collector: true });
    const { log: holed } = buildCommittedLog([first, reopened]);
    expect(holed!.holes).toEqual([[4, 4]]);
    const w = watchRecord('w', [resp([k1a, k2b, k1c, k2d, k1del, k1e].map(strip))], { start_revision: 2 });
    const r = checkWatch([first, reopened, w], { committed: holed! });
    expect(r.valid).toBe('unknown');
    // A watch entirely after the hole is still checked.
    const after = watchRecord('w2', [resp([k1e].map(strip))], { key: 'k1', start_revision: 6 });
    expect(checkWatch([first, reopened, after], { committed: holed! }).valid).toBe(true);
  });
});
