/**
 * lease (JEPSEN-LITE.md item 11). Threads grant leases (TTL 2–5 s) of three kinds, chosen at
 * grant: `keep` leases are kept alive through keep-alive streams about every TTL/3, `lapse`
 * leases are left to expire, `revoke` leases are revoked after a while. Keys are attached with
 * unique values ('lease-put'), read back ('read', with the lease of what was read), and leases'
 * remaining TTLs are read ('lease-ttl', -1 when gone). A watcher follows deletes on the prefix
 * (filter NOPUT) in 2–5 s spans, so expiry deletes are seen as they happen.
 *
 * Recorded as the lease checker expects (checkers/lease.ts): lease-grant (invoke ttl; ok lease,
 * ttl), lease-keepalive (invoke lease; ok ttl, ≤ 0 when gone), lease-revoke (invoke lease),
 * lease-ttl (invoke lease; ok ttl), lease-put (invoke key, value, lease), read (ok value, lease).
 * A lease leaves the pool once it is known gone (or a while after its TTL for lapsing ones).
 */
import type { LeaseKeepAliveStream } from '../../src/client/index.js';
import type { RunContext, Workload } from '../types.js';
import { Clients, RateLimiter, Thread, kvFields, liveNodes, loop, makeThreads, parseValue, perform, runThreads, sleep } from './common.js';
import { Collectors, finalRevision } from './collectors.js';
import { watchOnce } from './watch.js';

export const LEASE_PREFIX = 'jl/lease/';
const LEASE_RANGE_END = 'jl/lease0';
const MAX_POOL = 24;
const MAX_KEYS_PER_LEASE = 4;

type Kind = 'keep' | 'lapse' | 'revoke';

interface PooledLease {
  readonly id: bigint;
  readonly ttlS: number;
  readonly kind: Kind;
  readonly grantedMs: number;
  readonly keys: string[];
  nextKeepAliveMs: number;
  /** A keep-alive or revoke is in flight (one at a time per lease). */
  busy: boolean;
  gone: boolean;
}

export function leaseWorkload(): Workload {
  let collectors: Collectors | undefined;
  const pool: PooledLease[] = [];
  const allKeys: string[] = [];
  let nextValue = 1;
  let nextKey = 0;
  const streams = new Map<string, LeaseKeepAliveStream>();

  const keepAliveStream = (clients: Clients, node: string): LeaseKeepAliveStream => {
    let s = streams.get(node);
    if (s === undefined) {
      s = clients.of(node).leaseKeepAlive();
      streams.set(node, s);
    }
    return s;
  };

  const prune = (): void => {
    const now = performance.now();
    for (let i = pool.length - 1; i >= 0; i--) {
      const l = pool[i] as PooledLease;
      if (l.gone || (l.kind !== 'keep' && now - l.grantedMs > l.ttlS * 1000 + 10_000)) pool.splice(i, 1);
    }
  };

  async function step(ctx: RunContext, clients: Clients, t: Thread): Promise<void> {
    prune();
    const now = performance.now();
    const due = pool.find((l) => l.kind === 'keep' && !l.busy && !l.gone && l.nextKeepAliveMs <= now);
    if (due !== undefined) return keepAlive(ctx, clients, t, due);
    const roll = ctx.prng.float();
    const live = pool.filter((l) => !l.gone);
    if (live.length < 3 || (roll < 0.15 && pool.length < MAX_POOL)) return grant(ctx, clients, t);
    const l = ctx.prng.pick(live);
    if (roll < 0.45 && l.keys.length < MAX_KEYS_PER_LEASE) return put(ctx, clients, t, l);
    if (roll < 0.75 && l.keys.length > 0) return read(ctx, clients, t, ctx.prng.pick(l.keys));
    if (roll < 0.85 && l.kind === 'revoke' && !l.busy && now - l.grantedMs > 500) return revoke(ctx, clients, t, l);
    return timeToLive(ctx, clients, t, l);
  }

  async function grant(ctx: RunContext, clients: Clients, t: Thread): Promise<void> {
    const ttl = ctx.prng.range(2, 5);
    const kind: Kind = ctx.prng.pick(['keep', 'lapse', 'revoke'] as const);
    const done = await perform(ctx, clients, t, { f: 'lease-grant', ttl }, async (c) => {
      const r = await c.leaseGrant(ttl);
      return { type: 'ok', lease: r.id.toString(), ttl: r.ttl, revision: r.header.revision };
    });
    if (done.type === 'ok' && done.lease !== undefined) {
      const ms = performance.now();
      pool.push({ id: BigInt(done.lease), ttlS: ttl, kind, grantedMs: ms, keys: [], nextKeepAliveMs: ms + (ttl * 1000) / 3, busy: false, gone: false });
    }
  }

  async function keepAlive(ctx: RunContext, clients: Clients, t: Thread, l: PooledLease): Promise<void> {
    l.busy = true;
    const node = t.node();
    try {
      const done = await perform(
        ctx,
        clients,
        t,
        { f: 'lease-keepalive', lease: l.id.toString() },
        async () => {
          const r = await keepAliveStream(clients, node).send(l.id);
          // No `revision`: a keep-alive's header is its member's own state, not a linearizable
          // point (etcd fills it locally), so it may be below what the process saw before.
          return { type: 'ok', lease: l.id.toString(), ttl: r.ttl };
        },
        node,
      );
      if (done.type === 'ok' && done.ttl !== undefined && done.ttl <= 0) l.gone = true;
      // A failed stream stays failed: the next keep-alive on this member opens a new one.
      if (done.type !== 'ok') {
        streams.get(node)?.close();
        streams.delete(node);
      }
    } finally {
      l.busy = false;
      l.nextKeepAliveMs = performance.now() + (l.ttlS * 1000) / 3;
    }
  }

  async function put(ctx: RunContext, clients: Clients, t: Thread, l: PooledLease): Promise<void> {
    const key = `${LEASE_PREFIX}${nextKey++}`;
    allKeys.push(key);
    l.keys.push(key);
    const value = nextValue++;
    const lease = l.id.toString();
    const done = await perform(ctx, clients, t, { f: 'lease-put', key, value, lease }, async (c) => {
      const r = await c.put({ key, value: String(value), lease: l.id });
      return { type: 'ok', value, lease, revision: r.header.revision, mod_revision: r.header.revision, version: 1 };
    });
    if (done.type === 'fail' && done.error?.includes('lease not found') === true) l.gone = true;
  }

  async function read(ctx: RunContext, clients: Clients, t: Thread, key: string): Promise<void> {
    await perform(ctx, clients, t, { f: 'read', key }, async (c) => {
      const r = await c.range({ key });
      const kv = r.kvs[0];
      return {
        type: 'ok',
        value: kv === undefined ? null : parseValue(kv.value),
        revision: r.header.revision,
        ...kvFields(kv),
        ...(kv !== undefined && kv.lease !== 0n ? { lease: kv.lease.toString() } : {}),
      };
    });
  }

  async function revoke(ctx: RunContext, clients: Clients, t: Thread, l: PooledLease): Promise<void> {
    l.busy = true;
    try {
      const done = await perform(ctx, clients, t, { f: 'lease-revoke', lease: l.id.toString() }, async (c) => {
        const r = await c.leaseRevoke(l.id);
        return { type: 'ok', lease: l.id.toString(), revision: r.header.revision };
      });
      if (done.type === 'ok' || done.error?.includes('lease not found') === true) l.gone = true;
    } finally {
      l.busy = false;
    }
  }

  async function timeToLive(ctx: RunContext, clients: Clients, t: Thread, l: PooledLease): Promise<void> {
    const done = await perform(ctx, clients, t, { f: 'lease-ttl', lease: l.id.toString() }, async (c) => {
      const r = await c.leaseTimeToLive(l.id, { keys: true });
      // No `revision`, as for keep-alives: the header comes from whichever member answered.
      return { type: 'ok', lease: l.id.toString(), ttl: r.ttl, value: r.keys.map((k) => k.toString('utf8')) };
    });
    if (done.type === 'ok' && done.ttl !== undefined && done.ttl < 0) l.gone = true;
  }

  async function deleteWatcher(ctx: RunContext, clients: Clients): Promise<void> {
    const nodes = liveNodes(ctx);
    for (let i = 0; i < 100_000 && !ctx.signal.aborted; i++) {
      const node = nodes[i % nodes.length] as string;
      const r = await watchOnce(ctx, clients, 'lease-deletes', node, 0, ctx.prng.range(2000, 5000), { key: LEASE_PREFIX, rangeEnd: LEASE_RANGE_END, filters: ['NOPUT'] });
      if (r.failed) await sleep(200, ctx.signal);
    }
  }

  return {
    name: 'lease',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      try {
        await Promise.all([runThreads(ctx, makeThreads(ctx, ctx.config.concurrency), (t) => loop(ctx, limiter, () => step(ctx, clients, t))), deleteWatcher(ctx, clients)]);
      } finally {
        for (const s of streams.values()) s.close();
        streams.clear();
      }
    },
    async final(ctx) {
      const clients = new Clients(ctx);
      // Every attached key once per member, linearizable: what survived the run.
      for (const node of ctx.db.nodes.map((n) => n.name).filter((n) => ctx.db.state(n) === 'up')) {
        const t = new Thread(ctx, -1, node);
        for (const key of allKeys) {
          await perform(ctx, clients, t, { f: 'read', key }, async (c) => {
            const r = await c.range({ key });
            const kv = r.kvs[0];
            return { type: 'ok', value: kv === undefined ? null : parseValue(kv.value), revision: r.header.revision, ...kvFields(kv), ...(kv !== undefined && kv.lease !== 0n ? { lease: kv.lease.toString() } : {}) };
          }, node);
        }
      }
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}
