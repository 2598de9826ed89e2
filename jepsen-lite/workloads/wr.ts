/**
 * wr (JEPSEN-LITE.md item 8): Elle rw-register transactions, 1–4 micro-ops over a small active
 * key set, sent as one unguarded Txn: a write is a Put, a read a Range that sees the txn's own
 * earlier Put. No read phase, no compare: this is the shape that exposed the jetcd retry bug (a
 * client retrying a txn that had committed applies it twice). Values are unique numbers; a key
 * written ~200 times is replaced by a fresh one. etcd refuses two Puts of one key in a txn, so a
 * txn writes each key at most once.
 *
 * Example: [['w','jl/wr/2',41], ['r','jl/wr/2',null], ['r','jl/wr/5',null]] → ok
 * [['w','jl/wr/2',41], ['r','jl/wr/2',41], ['r','jl/wr/5',17]].
 */
import type { MicroOp } from '../history.js';
import type { RunContext, Workload } from '../types.js';
import { Clients, RateLimiter, Thread, loop, makeThreads, parseValue, perform, runThreads, type Outcome } from './common.js';
import { Collectors, finalRevision } from './collectors.js';
import type { EtcdClient, RequestOp } from '../../src/client/index.js';

export const WR_PREFIX = 'jl/wr/';
export const WRITES_PER_KEY = 200;
const ACTIVE_KEYS = 8;

async function execute(c: EtcdClient, txn: readonly MicroOp[]): Promise<Outcome> {
  const success: RequestOp[] = txn.map((m) => (m[0] === 'w' ? { put: { key: m[1], value: String(m[2]) } } : { range: { key: m[1] } }));
  const r = await c.txn({ success });
  const done = txn.map((m, i): MicroOp => {
    if (m[0] !== 'r') return m;
    const resp = r.responses[i];
    const kv = resp !== undefined && 'range' in resp ? resp.range.kvs[0] : undefined;
    const v = kv === undefined ? null : parseValue(kv.value);
    return ['r', m[1], typeof v === 'number' ? v : null];
  });
  return { type: 'ok', txn: done, revision: r.header.revision };
}

export function wrWorkload(): Workload {
  let collectors: Collectors | undefined;
  const allKeys: string[] = [];
  let active: string[] = [];
  let nextKey = 0;
  let nextValue = 1;
  const writes = new Map<string, number>();
  const freshKey = (): string => {
    const k = `${WR_PREFIX}${nextKey++}`;
    allKeys.push(k);
    return k;
  };

  function generate(ctx: RunContext): MicroOp[] {
    const out: MicroOp[] = [];
    const written = new Set<string>();
    const n = ctx.prng.range(1, 4);
    for (let i = 0; i < n; i++) {
      const slot = ctx.prng.int(active.length);
      const key = active[slot] as string;
      if (ctx.prng.chance(0.5) && !written.has(key)) {
        written.add(key);
        out.push(['w', key, nextValue++]);
        const count = (writes.get(key) ?? 0) + 1;
        writes.set(key, count);
        if (count >= WRITES_PER_KEY) active[slot] = freshKey();
      } else out.push(['r', key, null]);
    }
    return out;
  }

  return {
    name: 'wr',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      active = [];
      for (let i = 0; i < ACTIVE_KEYS; i++) active.push(freshKey());
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      await runThreads(ctx, makeThreads(ctx, ctx.config.concurrency), (t) =>
        loop(ctx, limiter, async () => {
          const txn = generate(ctx);
          await perform(ctx, clients, t, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, (c) => execute(c, txn));
        }),
      );
    },
    async final(ctx) {
      const clients = new Clients(ctx);
      for (const node of ctx.db.nodes.map((x) => x.name).filter((x) => ctx.db.state(x) === 'up')) {
        const t = new Thread(ctx, -1, node);
        for (let i = 0; i < allKeys.length; i += 4) {
          const txn = allKeys.slice(i, i + 4).map((k): MicroOp => ['r', k, null]);
          await perform(ctx, clients, t, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, (c) => execute(c, txn), node);
        }
      }
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}
