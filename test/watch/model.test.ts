/**
 * Randomized model check: random writes, watches (keys, ranges, from-key, filters, prevKv, past,
 * current and future starts), cancels, compactions, full buffers, victim retries and sync rounds
 * (with writes landing while a sync round is reading history). Every watcher must receive exactly
 * the matching events from its start revision on, in order, each revision whole in one response,
 * or a prefix of them followed by one compacted cancellation. A failure prints the seed.
 */
import { describe, expect, it } from 'vitest';
import { EventType, type Event } from '../../src/mvcc/index.js';
import { Prng } from '../../src/util/index.js';
import { FilterType, WatchHub, type WatchRequest, type WatchStream } from '../../src/watch/index.js';
import { FakeHistory, b, s } from './fake-history.js';
import { Sink } from './sink.js';

const KEYS = ['a', 'ab', 'abc', 'b', 'ba', 'c', 'd'];

interface Tracked {
  readonly stream: number;
  readonly id: number;
  readonly req: WatchRequest;
  readonly startRev: number;
  canceled: boolean;
}

function keyMatches(req: WatchRequest, key: string): boolean {
  const k = req.key;
  const e = req.rangeEnd;
  const kk = s(k);
  if (e === undefined || e.length === 0) return kk === key;
  if (e.length === 1 && e[0] === 0) return key >= kk || (k.length === 1 && k[0] === 0);
  return key >= kk && key < s(e);
}

function render(ev: Event, prevKv: boolean): string {
  const key = s(ev.kv.key);
  const base = ev.type === EventType.PUT ? `${ev.kv.modRevision}:PUT:${key}=${s(ev.kv.value)}` : `${ev.kv.modRevision}:DEL:${key}`;
  return prevKv && ev.prevKv !== undefined ? `${base}(prev ${s(ev.prevKv.value)})` : base;
}

const coverage = { refused: 0, compacted: 0, events: 0 };

async function runSeed(seed: number): Promise<void> {
  const rng = new Prng(seed);
  const history = new FakeHistory();
  const hub = new WatchHub({ history, maxEventsPerSync: rng.range(1, 6), maxWatchersPerSync: rng.range(1, 8) });
  const log: Event[] = [];
  const apply = (): void => {
    const ops: string[] = [];
    for (let n = rng.range(1, 3); n > 0; n--) ops.push(rng.chance(0.3) ? `-${rng.pick(KEYS)}` : `${rng.pick(KEYS)}=${rng.int(100)}`);
    const { events, rev } = history.apply(ops);
    if (events.length === 0) return;
    log.push(...events);
    hub.notify(events, rev);
  };
  const sinks: Sink[] = [];
  const streams: WatchStream[] = [];
  for (let i = 0; i < 4; i++) {
    const sink = new Sink(rng.pick([0, 1, 2, 5, Number.POSITIVE_INFINITY]));
    sinks.push(sink);
    streams.push(hub.newStream(sink.send));
  }
  const tracked: Tracked[] = [];

  for (let step = 0; step < 400; step++) {
    const roll = rng.int(100);
    if (roll < 40) {
      apply();
    } else if (roll < 52) {
      const stream = rng.int(streams.length);
      const shape = rng.int(4);
      const key = rng.pick(KEYS);
      const req: WatchRequest = {
        key: shape === 3 ? b('\0') : b(key),
        ...(shape === 1 ? { rangeEnd: b(rng.pick(KEYS)) } : shape >= 2 ? { rangeEnd: b('\0') } : {}),
        startRevision: rng.pick([0, rng.range(1, history.currentRev + 3)]),
        prevKv: rng.chance(0.5),
        filters: rng.pick([[], [FilterType.NOPUT], [FilterType.NODELETE]]),
      };
      if (req.rangeEnd !== undefined && req.rangeEnd.length > 0 && req.rangeEnd[0] !== 0 && s(req.rangeEnd) <= key) continue;
      const startRev = (req.startRevision ?? 0) <= 0 ? hub.currentRev + 1 : (req.startRevision as number);
      const id = (streams[stream] as WatchStream).watch(req);
      tracked.push({ stream, id, req, startRev, canceled: false });
    } else if (roll < 55 && tracked.length > 0) {
      const t = rng.pick(tracked);
      (streams[t.stream] as WatchStream).cancel(t.id);
      t.canceled = true;
    } else if (roll < 58) {
      const to = rng.range(Math.max(history.compactRev, 1), history.currentRev);
      if (to > history.compactRev) history.compact(to);
    } else if (roll < 70) {
      rng.pick(sinks).drain();
    } else if (roll < 75) {
      hub.retryVictims();
    } else {
      // A sync round, with writes landing while it reads history.
      const round = hub.syncOnce();
      for (let n = rng.int(3); n > 0; n--) apply();
      await round;
    }
  }

  // Quiesce: open every buffer and sync until nothing is pending.
  for (const sink of sinks) sink.capacity = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10_000 && (await hub.syncOnce()); i++);
  expect(hub.pending, `SEED=${seed}`).toBe(false);
  apply(); // the synced path after catching up
  for (const sink of sinks) coverage.refused += sink.refused;

  for (const t of tracked) {
    const sink = sinks[t.stream] as Sink;
    const responses = sink.taken.filter((r) => r.watchId === t.id);
    const compacted = responses.filter((r) => r.compactRevision !== undefined);
    const got = responses.flatMap((r) => r.events.map((ev) => render(ev, t.req.prevKv === true)));
    const filters = t.req.filters ?? [];
    const want = log
      .filter((ev) => ev.kv.modRevision >= t.startRev && keyMatches(t.req, s(ev.kv.key)))
      .filter((ev) => !(ev.type === EventType.PUT ? filters.includes(FilterType.NOPUT) : filters.includes(FilterType.NODELETE)))
      .map((ev) => render(ev, t.req.prevKv === true));
    coverage.compacted += compacted.length;
    coverage.events += got.length;
    const where = `SEED=${seed} stream ${t.stream} watch ${t.id} start ${t.startRev}`;
    if (t.canceled || compacted.length > 0) expect(want.slice(0, got.length), where).toEqual(got);
    else expect(got, where).toEqual(want);
    expect(compacted.length, where).toBeLessThanOrEqual(1);
    if (compacted.length === 1) expect(responses.at(-1), where).toBe(compacted[0]);
    // No prevKv leaks to watchers that did not ask.
    if (t.req.prevKv !== true) for (const r of responses) for (const ev of r.events) expect(ev.prevKv, where).toBeUndefined();
    // A revision is never split across responses, and responses go forward.
    let lastRev = 0;
    for (const r of responses) {
      if (r.events.length === 0) continue;
      const revs = r.events.map((ev) => ev.kv.modRevision);
      expect(revs[0] as number, where).toBeGreaterThan(lastRev);
      lastRev = revs.at(-1) as number;
      expect(r.revision, where).toBeGreaterThanOrEqual(lastRev);
    }
  }
}

describe('WatchHub randomized model', () => {
  const seeds = Array.from({ length: 60 }, (_, i) => i + 1);
  it.each(seeds)('seed %i', async (seed) => {
    await runSeed(seed);
  });
  it('exercised full buffers, compacted starts and real traffic', () => {
    expect(coverage.refused).toBeGreaterThan(50);
    expect(coverage.compacted).toBeGreaterThan(5);
    expect(coverage.events).toBeGreaterThan(1000);
  });
});
