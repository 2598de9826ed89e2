import { describe, expect, it } from 'vitest';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { checkWatch } from '../../../jepsen-lite/checkers/watch.js';
import type { WatchEventRecord, WatchRecord } from '../../../jepsen-lite/history.js';
import { HistoryBuilder, collectorRecord, del, put, resp, watchRecord } from './builder.js';

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
    // A watch that got no response (its member was down) was never served: nothing to cancel.
    const unserved = check(watchRecord('w', [], { key: 'k1', start_revision: 4, time_ns: 100 }), { compactions: [{ revision: 5, time_ns: 50, node: 'n1' }] });
    expect(unserved.valid).toBe(true);
  });

  it('collectors that disagree, and no ground truth at all', () => {
    // c-n3 saw another value at revision 3: the members' histories differ.
    const other = committedEvents.map((e) => (e.mod_revision === 3 ? { ...e, value: 'x' } : e));
    const bad = buildCommittedLog([collectors[0]!, collectorRecord('c-n3', other)]);
    const r = checkWatch([], { committed: bad.log!, collectorAnomalies: bad.anomalies });
    expect(types(r)).toEqual(['collectors-differ']);
    expect(r.anomalies[0]!.message).toContain('revision 3');
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

// The collectors are watches too: a revision one of them owed and did not deliver is a gap of
// that collector, whatever the others saw (the skip-watch-event bug hits every stream).
describe('watch: collectors that miss events', () => {
  const all = { key: '\u0000', range_end: '\u0000', collector: true } as const;
  const gapsOf = (r: ReturnType<typeof checkWatch>): string[] => r.anomalies.filter((a) => a.type === 'watch-gap').map((a) => a.message);

  it('a collector whose revisions skip one: a gap, even when every collector skipped it', () => {
    const skipped = committedEvents.filter((e) => e.mod_revision !== 3);
    const cs = [collectorRecord('c-n1', skipped), collectorRecord('c-n2', skipped)];
    const { log: holed, anomalies } = buildCommittedLog(cs);
    expect(anomalies).toEqual([]);
    expect(holed!.holes).toEqual([[3, 3]]);
    const r = checkWatch([...cs, watchRecord('w', [resp([strip(k1c)])], { key: 'k1', start_revision: 4 })], { committed: holed! });
    expect(r.valid).toBe(false);
    const gaps = gapsOf(r);
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toContain('collector c-n1');
    expect(gaps[0]).toContain('delivered nothing at revision 3');
    expect(gaps[0]).toContain('delivered revision 2 before and revision 4 after');
  });

  it('names the acknowledged write, or the other watcher, that shows the missed revision', () => {
    const skipped = committedEvents.filter((e) => e.mod_revision !== 3);
    const cs = [collectorRecord('c-n1', skipped)];
    const { log: holed } = buildCommittedLog(cs);
    const history = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'k1', value: 'a' }, 'ok', { revision: 2 })
      .op(1, 'write', [2, 3], { key: 'k2', value: 'b' }, 'ok', { revision: 3 })
      .build();
    const byWrite = checkWatch(cs, { committed: holed!, events: history });
    expect(byWrite.valid).toBe(false);
    expect(byWrite.anomalies[0]!.message).toContain('write k2 (history index 2) was acknowledged with revision 3');
    expect(byWrite.anomalies[0]!.events).toEqual([2, 3]);
    const watcher = watchRecord('w9', [resp([strip(k2b)])], { key: 'k2', start_revision: 3 });
    const bySeen = checkWatch([...cs, watcher], { committed: holed! });
    expect(gapsOf(bySeen)[0]).toContain('watcher w9 (on n1) received PUT k2=b@3');
  });

  it('a collector missing a revision another collector delivered, or part of one (a txn)', () => {
    const missingRev = collectorRecord('c-n2', committedEvents.filter((e) => e.mod_revision !== 5));
    const missingEvent = collectorRecord('c-n3', committedEvents.filter((e) => e !== committedEvents[3]));
    const cs = [collectors[0]!, missingRev, missingEvent];
    const { log: union, anomalies } = buildCommittedLog(cs);
    // Not a disagreement between members: the union is the whole log, with no hole.
    expect(anomalies).toEqual([]);
    expect(union!.events).toEqual(committedEvents);
    expect(union!.holes).toEqual([]);
    const r = checkWatch(cs, { committed: union! });
    expect(gapsOf(r).sort()).toEqual([
      'collector c-n2 (on n1, watching every key over [1, 6]) delivered nothing at revision 5; collector c-n1 delivered DELETE k1@5',
      'collector c-n3 (on n1, watching every key over [1, 6]) delivered only part of revision 4; collector c-n1 delivered PUT k2=d@4',
    ]);
  });

  it('a collector that misses events its progress notification vouched for', () => {
    const c = watchRecord('c-n1', [resp(committedEvents.slice(0, 4)), resp([], { revision: 6, progress_notify: true })], { ...all, start_revision: 1 });
    const { log: short } = buildCommittedLog([c]);
    const r = checkWatch([c], { committed: short! });
    expect(gapsOf(r)).toEqual([
      'collector c-n1 (on n1, watching every key over [1, 6]) delivered nothing at revisions 5..6; every revision is a write with an event, and it delivered revision 4 before and a progress notification at 6 after',
    ]);
  });

  it('stays unknown for what no collector could see: compacted before any started', () => {
    // Revision 1 was compacted away (a reused cluster): the collector starts again at 4.
    const canceled = watchRecord('c-n1', [resp([], { canceled: true, compact_revision: 4, revision: 6 })], { ...all, start_revision: 1 });
    const reopened = watchRecord('c-n1', [resp(committedEvents.slice(2))], { ...all, start_revision: 4 });
    const { log: partial, anomalies } = buildCommittedLog([canceled, reopened]);
    expect(anomalies).toEqual([]);
    expect(partial!.fromRevision).toBe(4);
    expect(partial!.gaps).toEqual([]);
    const w = watchRecord('w', [resp([k1a, k2b, k1c, k2d].map(strip))], { start_revision: 2 });
    const r = checkWatch([canceled, reopened, w], { committed: partial! });
    // Only revisions 4.. are compared; 2 and 3 are nobody's gap.
    expect(r.valid).toBe(true);
    expect(r.stats['comparedEvents']).toBe(2);
    // The same first events from a collector that was not canceled: it owed revisions 2 and 3.
    const notCanceled = buildCommittedLog([watchRecord('c-n1', [resp(committedEvents.slice(2))], { ...all, start_revision: 1 })]);
    expect(notCanceled.log!.gaps.map((g) => [g.from, g.to])).toEqual([[2, 3]]);
    expect(checkWatch([w], { committed: notCanceled.log! }).valid).toBe(false);
  });

  it('negative control: a clean history, with a collector that reopened from last_seen + 1, stays valid', () => {
    const history = new HistoryBuilder()
      .op(1, 'write', [0, 1], { key: 'k1', value: 'a' }, 'ok', { revision: 2 })
      .op(2, 'write', [0, 2], { key: 'k2', value: 'b' }, 'ok', { revision: 3 })
      .op(1, 'delete', [3, 4], { key: 'k1' }, 'ok', { value: 1, revision: 5 })
      .build();
    const first = watchRecord('c-n1', [resp(committedEvents.slice(0, 2))], { ...all, start_revision: 1 });
    const again = watchRecord('c-n1', [resp(committedEvents.slice(2)), resp([], { revision: 6, progress_notify: true })], { ...all, start_revision: 4 });
    const cs = [first, again, collectorRecord('c-n2', committedEvents)];
    const { log: clean, anomalies } = buildCommittedLog(cs);
    expect(anomalies).toEqual([]);
    expect(clean!.gaps).toEqual([]);
    expect(clean!.coverage.map((c) => c.complete)).toEqual([true, true]);
    const w = watchRecord('w1', [resp([k1a, k2b]), resp([k1c, k2d]), resp([k1del, k1e])], { start_revision: 2, prev_kv: true });
    const r = checkWatch([...cs, w], { committed: clean!, events: history });
    expect(r.valid, JSON.stringify(r.anomalies)).toBe(true);
    expect(r.stats['collectorGaps']).toBe(0);
  });

  it('a collector that stopped early (its member removed) is incomplete, not a disagreement', () => {
    const { log: withShort, anomalies } = buildCommittedLog([...collectors, collectorRecord('c-n3', committedEvents.slice(0, 2))]);
    expect(anomalies).toEqual([]);
    expect(withShort!.gaps).toEqual([]);
    expect(withShort!.coverage.find((c) => c.name === 'c-n3')!.complete).toBe(false);
    expect(withShort!.events).toEqual(committedEvents);
  });
});
