/**
 * set (JEPSEN-LITE.md item 9): unique elements added to one key holding a JSON list, by
 * compare-and-set, with periodic reads. An element acknowledged and then missing from later
 * reads is lost; one read twice is duplicated; an acknowledged one that no read after it shows
 * is never visible.
 *
 *   add e:    Range key (list, mod_revision m), then Txn If mod(key) == m Then Put list+[e]
 *             guard failed → fail 'guard_failed' (nothing written)
 *   read-set: Range key → ok value = the list (linearizable)
 *
 * final(): a read-set from every member, linearizable.
 */
import type { EtcdClient } from '../../src/client/index.js';
import type { RunContext, Workload } from '../types.js';
import { parseList } from './append.js';
import { Clients, RateLimiter, Thread, loop, makeThreads, perform, runThreads, type Outcome } from './common.js';
import { Collectors, finalRevision } from './collectors.js';

export const SET_KEY = 'jl/set/0';

async function readSet(c: EtcdClient): Promise<Outcome> {
  const r = await c.range({ key: SET_KEY });
  const kv = r.kvs[0];
  return { type: 'ok', value: kv === undefined ? [] : parseList(kv.value, SET_KEY), revision: r.header.revision, ...(kv === undefined ? {} : { mod_revision: kv.modRevision, version: kv.version }) };
}

async function add(c: EtcdClient, element: number): Promise<Outcome> {
  const r = await c.range({ key: SET_KEY });
  const kv = r.kvs[0];
  const list = kv === undefined ? [] : parseList(kv.value, SET_KEY);
  const t = await c.txn({ compare: [{ key: SET_KEY, target: 'mod', result: '=', value: kv?.modRevision ?? 0 }], success: [{ put: { key: SET_KEY, value: JSON.stringify([...list, element]) } }] });
  if (!t.succeeded) return { type: 'fail', error: 'guard_failed' };
  return { type: 'ok', value: element, revision: t.header.revision, mod_revision: t.header.revision, version: (kv?.version ?? 0) + 1 };
}

export function setWorkload(): Workload {
  let collectors: Collectors | undefined;
  let nextElement = 1;
  return {
    name: 'set',
    async run(ctx: RunContext) {
      collectors = new Collectors(ctx);
      collectors.start();
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      await runThreads(ctx, makeThreads(ctx, ctx.config.concurrency), (t) =>
        loop(ctx, limiter, async () => {
          if (ctx.prng.chance(0.2)) {
            await perform(ctx, clients, t, { f: 'read-set', key: SET_KEY }, (c) => readSet(c));
            return;
          }
          const element = nextElement++;
          await perform(ctx, clients, t, { f: 'add', key: SET_KEY, value: element }, (c) => add(c, element));
        }),
      );
    },
    async final(ctx: RunContext) {
      const clients = new Clients(ctx);
      for (const node of ctx.db.nodes.map((n) => n.name).filter((n) => ctx.db.state(n) === 'up')) {
        await perform(ctx, clients, new Thread(ctx, -1, node), { f: 'read-set', key: SET_KEY }, (c) => readSet(c), node);
      }
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}
