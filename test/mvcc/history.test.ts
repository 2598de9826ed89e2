import { describe, expect, it } from 'vitest';
import { EventType, type Event } from '../../src/mvcc/index.js';
import { Prng } from '../../src/util/index.js';
import { b, codeOf, open, putAll } from './helpers.js';

/** An event without prevKv: history never carries one (the watch stream fills it). */
const bare = (ev: Event): Event => ({ type: ev.type, kv: { ...ev.kv, value: Buffer.from(ev.kv.value) } });

describe('mvcc history: events by revision', () => {
  it('returns exactly the events the writes produced, for every span and limit', async () => {
    const { store } = await open();
    const prng = new Prng(7);
    const all: Event[] = [];
    for (let i = 0; i < 120; i++) {
      const k = `${prng.pick(['j', 'k'])}${prng.int(8)}`;
      const ci = store.consistentIndex() + 1;
      const roll = prng.int(10);
      if (roll < 6) {
        all.push(...(await store.put({ key: b(k), value: b(`v${i}`), lease: 0n }, ci)).events);
      } else if (roll < 8) {
        all.push(...(await store.deleteRange({ key: b('k'), rangeEnd: b(`k${prng.int(8)}`) }, ci)).events);
      } else {
        const r = await store.txn({ success: [{ requestPut: { key: b(`k${prng.int(8)}`), value: b('t') } }, { requestDeleteRange: { key: b(`j${prng.int(8)}`) } }] }, ci);
        all.push(...r.events);
      }
    }
    const cur = store.currentRev;
    for (let trial = 0; trial < 200; trial++) {
      const from = 2 + prng.int(cur - 1);
      const to = from + prng.int(cur - from + 1);
      const limit = 1 + prng.int(10);
      const got = await store.eventsBetween(from, to, limit);
      expect(got.nextRev).toBeGreaterThan(from);
      expect(got.nextRev).toBeLessThanOrEqual(to + 1);
      const want = all.filter((e) => e.kv.modRevision >= from && e.kv.modRevision < got.nextRev).map(bare);
      expect(got.events).toEqual(want);
      // Whole revisions only, and no more than needed to reach the limit.
      if (got.nextRev <= to) {
        expect(got.events.length).toBeGreaterThanOrEqual(limit);
        const last = (got.events[got.events.length - 1] as Event).kv.modRevision;
        expect(got.events.filter((e) => e.kv.modRevision < last).length).toBeLessThan(limit);
      }
    }
  });

  it('gives DELETE events with only key and revision, as etcd', async () => {
    const { store } = await open();
    await putAll(store, ['a', '1']);
    await store.deleteRange({ key: b('a') }, store.consistentIndex() + 1);
    const { events } = await store.eventsBetween(2, 3, 10);
    expect(events.map((e) => [e.type, e.kv.modRevision, e.kv.version, e.kv.createRevision])).toEqual([
      [EventType.PUT, 2, 1, 2],
      [EventType.DELETE, 3, 0, 0],
    ]);
  });

  it('refuses spans below the compaction revision and after the current revision', async () => {
    const { store } = await open();
    await putAll(store, ['a', '1'], ['a', '2'], ['a', '3']);
    const h = await store.compact(3, store.consistentIndex() + 1);
    await h.done;
    expect(await codeOf(store.eventsBetween(2, 4, 10))).toBe('Compacted');
    expect(await codeOf(store.eventsBetween(3, 5, 10))).toBe('FutureRev');
    expect((await store.eventsBetween(3, 4, 10)).events.map((e) => e.kv.modRevision)).toEqual([3, 4]);
  });
});
