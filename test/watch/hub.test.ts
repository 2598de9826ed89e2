import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { MvccStore } from '../../src/mvcc/index.js';
import { DUPLICATE_WATCH_ID, FilterType, WatchHub, fillPrevKvs } from '../../src/watch/index.js';
import { FakeHistory, b, s } from './fake-history.js';
import { Sink } from './sink.js';

function setup(opts: { maxEventsPerSync?: number; maxWatchersPerSync?: number } = {}) {
  const history = new FakeHistory();
  const hub = new WatchHub({ history, ...opts });
  const apply = (...ops: string[]): number => {
    const { events, rev } = history.apply(ops);
    if (events.length > 0) hub.notify(events, rev);
    return rev;
  };
  return { history, hub, apply };
}

async function syncAll(hub: WatchHub): Promise<void> {
  for (let i = 0; i < 1000 && (await hub.syncOnce()); i++);
  expect(hub.pending).toBe(false);
}

describe('WatchHub', () => {
  it('delivers live events to a synced watcher (start 0), one response per revision', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const id = hub.newStream(sink.send).watch({ key: b('a') });
    expect(hub.stats()).toEqual({ synced: 1, unsynced: 0, victims: 0 });
    apply('a=1', 'b=1');
    apply('b=2');
    apply('a=2', '-a');
    expect(sink.eventsOf(id)).toEqual(['2:PUT:a=1', '4:PUT:a=2', '4:DEL:a']);
    expect(sink.taken.map((r) => r.revision)).toEqual([2, 4]);
  });

  it('replays history from a past start revision, then goes live', async () => {
    const { hub, apply } = setup();
    apply('a=1');
    apply('a=2');
    apply('b=1');
    const sink = new Sink();
    const id = hub.newStream(sink.send).watch({ key: b('a'), startRevision: 3 });
    expect(hub.stats().unsynced).toBe(1);
    apply('a=3'); // rev 5, while unsynced: not delivered by notify
    expect(sink.taken).toEqual([]);
    await syncAll(hub);
    expect(hub.stats().synced).toBe(1);
    apply('a=4');
    expect(sink.eventsOf(id)).toEqual(['3:PUT:a=2', '5:PUT:a=3', '6:PUT:a=4']);
  });

  it('catches up in bounded batches without splitting a revision', async () => {
    const { hub, history, apply } = setup({ maxEventsPerSync: 3 });
    for (let i = 0; i < 10; i++) apply(`p${i}=x`, `q${i}=x`); // revs 2..11, 2 events each
    const sink = new Sink();
    const id = hub.newStream(sink.send).watch({ key: b('\0'), rangeEnd: b('\0'), startRevision: 1 });
    let rounds = 0;
    while (await hub.syncOnce()) rounds++;
    expect(rounds).toBeGreaterThan(2);
    expect(history.reads).toBeGreaterThan(3);
    expect(sink.eventsOf(id)).toHaveLength(20);
    for (const r of sink.taken) {
      expect(r.events.length).toBeLessThanOrEqual(4);
      expect(r.events.length % 2).toBe(0); // both events of a revision, always together
    }
  });

  it('matches single keys, ranges, prefixes, from-key and all keys', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const single = st.watch({ key: b('foo') });
    const range = st.watch({ key: b('b'), rangeEnd: b('d') });
    const prefix = st.watch({ key: b('foo'), rangeEnd: b('fop') });
    const fromKey = st.watch({ key: b('c'), rangeEnd: b('\0') });
    const all = st.watch({ key: b('\0'), rangeEnd: b('\0') });
    apply('a=1', 'b=1', 'c=1', 'd=1', 'foo=1', 'foo/x=1', 'fop=1', 'z=1');
    expect(sink.eventsOf(single)).toEqual(['2:PUT:foo=1']);
    expect(sink.eventsOf(range)).toEqual(['2:PUT:b=1', '2:PUT:c=1']);
    expect(sink.eventsOf(prefix)).toEqual(['2:PUT:foo=1', '2:PUT:foo/x=1']);
    expect(sink.eventsOf(fromKey)).toEqual(['2:PUT:c=1', '2:PUT:d=1', '2:PUT:foo=1', '2:PUT:foo/x=1', '2:PUT:fop=1', '2:PUT:z=1']);
    expect(sink.eventsOf(all)).toHaveLength(8);
  });

  it('applies NOPUT and NODELETE filters, and sends nothing when everything is filtered', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const noPut = st.watch({ key: b('a'), filters: [FilterType.NOPUT] });
    const noDel = st.watch({ key: b('a'), filters: [FilterType.NODELETE] });
    const none = st.watch({ key: b('a'), filters: [FilterType.NOPUT, FilterType.NODELETE] });
    apply('a=1');
    apply('-a');
    expect(sink.eventsOf(noPut)).toEqual(['3:DEL:a']);
    expect(sink.eventsOf(noDel)).toEqual(['2:PUT:a=1']);
    expect(sink.taken.filter((r) => r.watchId === none)).toEqual([]);
  });

  it('passes prevKv only to watchers that asked, live and from history', async () => {
    const { hub, apply } = setup();
    apply('a=1');
    apply('a=2');
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const withPrev = st.watch({ key: b('a'), startRevision: 3, prevKv: true });
    const without = st.watch({ key: b('a'), startRevision: 3 });
    await syncAll(hub);
    apply('-a');
    const get = (id: number) => sink.taken.filter((r) => r.watchId === id).flatMap((r) => r.events);
    expect(get(withPrev).map((e) => e.prevKv?.value)).toEqual([b('1'), b('2')]);
    expect(get(without).map((e) => e.prevKv)).toEqual([undefined, undefined]);
  });

  it('fillPrevKvs reads the previous kv from MvccStore for events that lack it', async () => {
    const store = await MvccStore.open(new MemoryLevel());
    await store.put({ key: b('k'), value: b('v1') }, 1);
    const r3 = await store.put({ key: b('k'), value: b('v2') }, 2);
    const r4 = await store.deleteRange({ key: b('k') }, 3);
    const events = [...r3.events, ...r4.events];
    expect(events.every((e) => e.prevKv === undefined)).toBe(true);
    const filled = await fillPrevKvs(events, async (key, rev) => (await store.range(key, undefined, { revision: rev })).kvs[0]);
    expect(filled.map((e) => (e.prevKv === undefined ? undefined : s(e.prevKv.value)))).toEqual(['v1', 'v2']);
    const created = (await store.put({ key: b('new'), value: b('x') }, 4)).events;
    expect((await fillPrevKvs(created, () => Promise.reject(new Error('not called'))))[0]?.prevKv).toBeUndefined();
  });

  it('cancels a watcher whose start revision was compacted, with compactRevision', async () => {
    const { hub, history, apply } = setup();
    for (let i = 0; i < 5; i++) apply(`a=${i}`); // revs 2..6
    history.compact(4);
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const old = st.watch({ key: b('a'), startRevision: 2 });
    const ok = st.watch({ key: b('a'), startRevision: 4 }); // compactRev itself is still readable
    await syncAll(hub);
    const oldResp = sink.taken.filter((r) => r.watchId === old);
    expect(oldResp).toEqual([{ watchId: old, events: [], revision: 6, compactRevision: 4, canceled: true }]);
    expect(sink.eventsOf(ok)).toEqual(['4:PUT:a=2', '5:PUT:a=3', '6:PUT:a=4']);
    apply('a=9');
    expect(sink.taken.filter((r) => r.watchId === old)).toHaveLength(1);
    expect(st.cancel(old)).toBe(false);
    expect(hub.stats()).toEqual({ synced: 1, unsynced: 0, victims: 0 });
  });

  it('a compacted response that does not fit waits for the next round', async () => {
    const { hub, history, apply } = setup();
    apply('a=1');
    apply('a=2');
    history.compact(3);
    const sink = new Sink(0);
    const id = hub.newStream(sink.send).watch({ key: b('a'), startRevision: 1 });
    expect(await hub.syncOnce()).toBe(true);
    sink.capacity = 1;
    expect(await hub.syncOnce()).toBe(false);
    expect(sink.taken).toEqual([{ watchId: id, events: [], revision: 3, compactRevision: 3, canceled: true }]);
  });

  it('a slow consumer becomes a victim, notify does not block, and it catches up without loss or duplication', async () => {
    const { hub, apply } = setup();
    const slow = new Sink(1);
    const fast = new Sink();
    const slowId = hub.newStream(slow.send).watch({ key: b('k') });
    const fastId = hub.newStream(fast.send).watch({ key: b('k') });
    apply('k=1'); // fits
    apply('k=2'); // buffer full -> victim with pending rev 3
    expect(hub.stats().victims).toBe(1);
    apply('k=3');
    apply('other=1');
    apply('k=4');
    expect(slow.refused).toBe(1); // a victim is not offered more while it has a pending response
    expect(fast.eventsOf(fastId)).toHaveLength(4);
    expect(await hub.syncOnce()).toBe(true); // still full
    slow.drain();
    expect(hub.retryVictims()).toBe(0); // rev 3 taken; revs 4..6 passed -> unsynced
    expect(hub.stats()).toEqual({ synced: 1, unsynced: 1, victims: 0 });
    slow.drain();
    await syncAll(hub);
    expect(hub.stats().synced).toBe(2);
    slow.drain();
    apply('k=5');
    expect(slow.eventsOf(slowId)).toEqual(fast.eventsOf(fastId));
    expect(slow.eventsOf(slowId)).toEqual(['2:PUT:k=1', '3:PUT:k=2', '4:PUT:k=3', '6:PUT:k=4', '7:PUT:k=5']);
  });

  it('a victim whose response is taken before new revisions goes straight back to synced', () => {
    const { hub, apply } = setup();
    const sink = new Sink(0);
    const id = hub.newStream(sink.send).watch({ key: b('k') });
    apply('k=1');
    expect(hub.stats().victims).toBe(1);
    sink.capacity = 10;
    hub.retryVictims();
    expect(hub.stats()).toEqual({ synced: 1, unsynced: 0, victims: 0 });
    apply('k=2');
    expect(sink.eventsOf(id)).toEqual(['2:PUT:k=1', '3:PUT:k=2']);
  });

  it('a future start revision waits in synced until history reaches it', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const id = hub.newStream(sink.send).watch({ key: b('k'), startRevision: 4 });
    apply('k=1');
    apply('k=2');
    apply('k=3');
    expect(sink.eventsOf(id)).toEqual(['4:PUT:k=3']);
  });

  it('stream ids: assigned, client-chosen, duplicates refused; cancel and close stop delivery', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    expect(st.watch({ key: b('a'), watchId: 1 })).toBe(1);
    expect(st.watch({ key: b('a') })).toBe(0);
    expect(st.watch({ key: b('a') })).toBe(2);
    expect(() => st.watch({ key: b('a'), watchId: 2 })).toThrow(DUPLICATE_WATCH_ID);
    expect(st.cancel(0)).toBe(true);
    expect(st.cancel(0)).toBe(false);
    apply('a=1');
    expect(sink.taken.map((r) => r.watchId).sort()).toEqual([1, 2]);
    st.close();
    apply('a=2');
    expect(sink.taken).toHaveLength(2);
    expect(hub.stats()).toEqual({ synced: 0, unsynced: 0, victims: 0 });
  });

  it('serves at most maxWatchersPerSync unsynced watchers per round', async () => {
    const { hub, apply } = setup({ maxWatchersPerSync: 2 });
    apply('k=1');
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const ids = [0, 1, 2, 3, 4].map(() => st.watch({ key: b('k'), startRevision: 2 }));
    expect(await hub.syncOnce()).toBe(true);
    expect(hub.stats().unsynced).toBe(3);
    await syncAll(hub);
    for (const id of ids) expect(sink.eventsOf(id)).toEqual(['2:PUT:k=1']);
  });

  it('many watchers on many keys each get exactly their key', () => {
    const { hub, apply } = setup();
    const sink = new Sink();
    const st = hub.newStream(sink.send);
    const ids = new Map<number, string>();
    for (let i = 0; i < 2000; i++) ids.set(st.watch({ key: b(`k${i % 100}`) }), `k${i % 100}`);
    for (let i = 0; i < 100; i++) apply(`k${i}=v`);
    for (const [id, key] of ids) expect(sink.eventsOf(id)).toEqual([`${Number(key.slice(1)) + 2}:PUT:${key}=v`]);
  });
});
