/**
 * watch (JEPSEN-LITE.md item 10). Half the threads write a prefix of 10 keys: unique puts
 * ('write'), deletes ('delete') and puts attached to short leases ('lease-put', after a
 * 'lease-grant'), so watchers see creates, updates, deletes and expiry deletes. The other half
 * watch the prefix with prev_kv and progress notifications, for 0.5–5 s each, from
 *   - the current revision ± rand(100) (past: a replay; future: a wait),
 *   - last_seen + 1 (a resume, as a client reconnecting would), or
 *   - a compacted revision (must be canceled with the compact revision).
 * Each watch request and all its responses is one WatchRecord in watch/watcher-<thread>.jsonl.
 *
 * A compactor compacts every 200–600 ms to a revision 20–100 below the newest one seen, but never
 * above what every collector has passed (collectors.ts explains why), and records each finished
 * compaction as recorder.nemesis('compact', { revision, node, source: 'workload' }), which the
 * watch checker's `compactions` option wants.
 */
import type { WatchRecord, WatchResponseRecord } from '../history.js';
import type { RunContext, Workload } from '../types.js';
import type { Thread} from './common.js';
import { Clients, RateLimiter, classifyError, liveNodes, loop, makeThreads, perform, runThreads, sleep } from './common.js';
import { Collectors, finalRevision, toResponseRecord } from './collectors.js';

export const WATCH_PREFIX = 'jl/watch/';
/** Range end of the prefix: '/' + 1. */
export const WATCH_RANGE_END = 'jl/watch0';
export const WATCH_KEYS = 10;
const MAX_WATCHES_PER_THREAD = 100_000;

interface Shared {
  /** Newest revision any response showed. */
  current: number;
  /** Last compaction revision that completed. */
  compacted: number;
  nextValue: number;
}

export function watchWorkload(): Workload {
  let collectors: Collectors | undefined;

  async function writer(ctx: RunContext, clients: Clients, limiter: RateLimiter, t: Thread, s: Shared): Promise<void> {
    let lease: { id: bigint; grantedMs: number } | undefined;
    await loop(ctx, limiter, async () => {
      const key = `${WATCH_PREFIX}k${ctx.prng.int(WATCH_KEYS)}`;
      const roll = ctx.prng.float();
      if (roll < 0.7) {
        const value = s.nextValue++;
        const done = await perform(ctx, clients, t, { f: 'write', key, value }, async (c) => {
          const r = await c.put({ key, value: String(value), prevKv: true });
          return { type: 'ok', value, revision: r.header.revision, mod_revision: r.header.revision, version: (r.prevKv?.version ?? 0) + 1 };
        });
        if (done.revision !== undefined) s.current = Math.max(s.current, done.revision);
      } else if (roll < 0.85) {
        const done = await perform(ctx, clients, t, { f: 'delete', key }, async (c) => {
          const r = await c.deleteRange({ key, prevKv: true });
          const prev = r.prevKvs[0];
          return { type: 'ok', value: r.deleted, revision: r.header.revision, ...(prev === undefined ? {} : { mod_revision: prev.modRevision, version: prev.version }) };
        });
        if (done.revision !== undefined) s.current = Math.max(s.current, done.revision);
      } else if (lease === undefined || performance.now() - lease.grantedMs > 1000) {
        const ttl = ctx.prng.range(2, 3);
        const done = await perform(ctx, clients, t, { f: 'lease-grant', ttl }, async (c) => {
          const r = await c.leaseGrant(ttl);
          return { type: 'ok', lease: r.id.toString(), ttl: r.ttl, revision: r.header.revision };
        });
        if (done.type === 'ok' && done.lease !== undefined) lease = { id: BigInt(done.lease), grantedMs: performance.now() };
      } else {
        const value = s.nextValue++;
        const id = lease.id;
        const done = await perform(ctx, clients, t, { f: 'lease-put', key, value, lease: id.toString() }, async (c) => {
          const r = await c.put({ key, value: String(value), lease: id, prevKv: true });
          return { type: 'ok', value, lease: id.toString(), revision: r.header.revision, mod_revision: r.header.revision, version: (r.prevKv?.version ?? 0) + 1 };
        });
        if (done.revision !== undefined) s.current = Math.max(s.current, done.revision);
      }
    });
  }

  async function watcher(ctx: RunContext, clients: Clients, t: Thread, s: Shared): Promise<void> {
    const name = `watcher-${t.id}`;
    let lastSeen = 0;
    for (let i = 0; i < MAX_WATCHES_PER_THREAD && !ctx.signal.aborted; i++) {
      const roll = ctx.prng.float();
      let start: number;
      if (roll < 0.4 && lastSeen > 0) start = lastSeen + 1;
      else if (roll < 0.55 && s.compacted > 1) start = Math.max(1, s.compacted - ctx.prng.int(50));
      else start = Math.max(1, s.current + ctx.prng.range(-100, 100));
      const spanMs = ctx.prng.range(500, 5000);
      const node = t.node();
      const r = await watchOnce(ctx, clients, name, node, start, spanMs);
      for (const resp of r.responses) {
        for (const e of resp.events) lastSeen = Math.max(lastSeen, e.mod_revision);
        s.current = Math.max(s.current, resp.revision);
      }
      if (r.failed) await sleep(100, ctx.signal);
    }
  }

  async function compactor(ctx: RunContext, clients: Clients, s: Shared): Promise<void> {
    for (let i = 0; i < 1_000_000 && !ctx.signal.aborted; i++) {
      await sleep(ctx.prng.range(200, 600), ctx.signal);
      if (ctx.signal.aborted) break;
      const safe = collectors?.safeCompactRevision() ?? 0;
      const target = Math.min(s.current - ctx.prng.range(20, 100), safe);
      if (target <= s.compacted || target < 2) continue;
      const nodes = liveNodes(ctx);
      const node = nodes[i % nodes.length] as string;
      try {
        await clients.of(node).compact(target);
        s.compacted = Math.max(s.compacted, target);
        ctx.recorder.nemesis('compact', { revision: target, node, source: 'workload' });
      } catch (e) {
        // An unknown outcome may still compact: watchers then see it as a compacted cancel.
        const c = classifyError(e);
        if (c.type === 'info') ctx.recorder.nemesis('compact-unknown', { revision: target, node, source: 'workload', error: c.error });
      }
    }
  }

  return {
    name: 'watch',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      const s: Shared = { current: 1, compacted: 0, nextValue: 1 };
      try {
        s.current = (await clients.of(liveNodes(ctx)[0] as string).range({ key: WATCH_PREFIX, rangeEnd: WATCH_RANGE_END, countOnly: true })).header.revision;
      } catch {
        // start from 1; writers raise it
      }
      const threads = makeThreads(ctx, Math.max(2, ctx.config.concurrency));
      const writers = Math.max(1, Math.floor(threads.length / 2));
      await Promise.all([
        runThreads(ctx, threads, (t) => (t.id < writers ? writer(ctx, clients, limiter, t, s) : watcher(ctx, clients, t, s))),
        compactor(ctx, clients, s),
      ]);
    },
    async final(ctx) {
      const clients = new Clients(ctx);
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}

/**
 * One watch request for `spanMs` (or until the run ends), recorded with every response but the
 * created notice. Asks for a progress notification about once a second.
 */
export async function watchOnce(
  ctx: RunContext,
  clients: Clients,
  watcher: string,
  node: string,
  start: number,
  spanMs: number,
  opts: { key?: string; rangeEnd?: string; filters?: ('NOPUT' | 'NODELETE')[] } = {},
): Promise<{ responses: WatchResponseRecord[]; failed: boolean }> {
  const key = opts.key ?? WATCH_PREFIX;
  const rangeEnd = opts.rangeEnd ?? WATCH_RANGE_END;
  const responses: WatchResponseRecord[] = [];
  const record: WatchRecord = {
    watcher,
    node,
    time_ns: ctx.recorder.now(),
    key,
    range_end: rangeEnd,
    start_revision: start,
    prev_kv: true,
    progress_notify: true,
    ...(opts.filters === undefined ? {} : { filters: opts.filters }),
    responses,
  };
  let failed = false;
  let stream: ReturnType<ReturnType<RunContext['client']>['watch']>;
  try {
    stream = clients.of(node).watch();
  } catch {
    return { responses, failed: true };
  }
  const filters = opts.filters?.map((f) => (f === 'NOPUT' ? ('noPut' as const) : ('noDelete' as const)));
  const deadline = performance.now() + spanMs;
  const stop = (): void => stream.close();
  const timer = setTimeout(stop, spanMs);
  ctx.signal.addEventListener('abort', stop, { once: true });
  const progress = setInterval(() => {
    try {
      if (performance.now() < deadline) stream.requestProgress();
    } catch {
      // closed
    }
  }, 1000);
  try {
    stream.create({ key, rangeEnd, startRevision: start, prevKv: true, progressNotify: true, ...(filters === undefined ? {} : { filters }) });
    for await (const r of stream) {
      const now = ctx.recorder.now();
      if (r.created && !r.canceled) continue;
      responses.push(toResponseRecord(r, now));
      if (r.canceled) break;
    }
  } catch {
    failed = true;
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    ctx.signal.removeEventListener('abort', stop);
    stream.close();
  }
  ctx.recorder.watch(record);
  return { responses, failed };
}
