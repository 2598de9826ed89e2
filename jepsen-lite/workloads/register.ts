/**
 * register (JEPSEN-LITE.md item 6): independent keys, each a linearizable register with read,
 * write and cas. Write values are unique over the whole run (a counter), so a value names the
 * op that wrote it and the checker can resolve indeterminate writes from the collectors' log.
 *
 * Threads are grouped by at most five; a group works one key at a time, so no key ever has more
 * than five concurrent processes. A group moves to a fresh key after 300 ops on the key, or after
 * 5 indeterminate writes on it (each one doubles the linearizability search).
 *
 *   read:  Range key (linearizable)                    ok value (null: absent), mod_revision, version
 *   write: Put key value (prev_kv)                     ok revision = the revision it created
 *   cas:   Txn If value(key) == expected               ok revision; compare failed → fail cas_mismatch
 *              (expected null: If create_revision(key) == 0)
 *          Then Put key value Else Range key
 *
 * final(): reads every key from every member, linearizable and then serializable, and stops the
 * collectors. A serializable read is recorded as a read only once its member has applied the
 * final revision (so after healing it is as fresh as a linearizable one); a member that does not
 * catch up in time gets its serializable reads recorded as `fail` ('stale-member'), which the
 * checkers ignore.
 */
import type { Compare } from '../../src/client/index.js';
import type { Workload } from '../types.js';
import type { RunContext } from '../types.js';
import { Clients, RateLimiter, Thread, kvFields, liveNodes, loop, makeThreads, parseValue, perform, runThreads, sleep } from './common.js';
import { Collectors, finalRevision } from './collectors.js';

export const REGISTER_PREFIX = 'jl/register/';
export const MAX_PROCESSES_PER_KEY = 5;
export const MAX_OPS_PER_KEY = 300;
export const MAX_INFO_WRITES_PER_KEY = 5;

interface Group {
  key: string;
  ops: number;
  infoWrites: number;
  /** Last value this group saw on its key (cas expects it). */
  last: number | null;
}

export function registerWorkload(): Workload {
  let collectors: Collectors | undefined;
  const keys: string[] = [];
  let nextKey = 0;
  let nextValue = 1;
  const freshKey = (): string => {
    const k = `${REGISTER_PREFIX}${nextKey++}`;
    keys.push(k);
    return k;
  };

  async function step(ctx: RunContext, clients: Clients, t: Thread, g: Group): Promise<void> {
    if (g.ops >= MAX_OPS_PER_KEY || g.infoWrites >= MAX_INFO_WRITES_PER_KEY) {
      g.key = freshKey();
      g.ops = 0;
      g.infoWrites = 0;
      g.last = null;
    }
    const key = g.key;
    g.ops++;
    const roll = ctx.prng.float();
    if (roll < 0.5) {
      const done = await perform(ctx, clients, t, { f: 'read', key }, async (c) => {
        const r = await c.range({ key });
        const kv = r.kvs[0];
        return { type: 'ok', value: kv === undefined ? null : parseValue(kv.value), revision: r.header.revision, ...kvFields(kv) };
      });
      if (done.type === 'ok' && g.key === key) g.last = typeof done.value === 'number' ? done.value : null;
      return;
    }
    const value = nextValue++;
    if (roll < 0.8) {
      const done = await perform(ctx, clients, t, { f: 'write', key, value }, async (c) => {
        const r = await c.put({ key, value: String(value), prevKv: true });
        return { type: 'ok', value, revision: r.header.revision, mod_revision: r.header.revision, version: (r.prevKv?.version ?? 0) + 1 };
      });
      if (done.type === 'ok' && g.key === key) g.last = value;
      if (done.type === 'info' && g.key === key) g.infoWrites++;
      return;
    }
    const expected = g.last;
    const compare: Compare = expected === null ? { key, target: 'create', result: '=', value: 0 } : { key, target: 'value', result: '=', value: String(expected) };
    const done = await perform(ctx, clients, t, { f: 'cas', key, value, expected }, async (c) => {
      const r = await c.txn({ compare: [compare], success: [{ put: { key, value: String(value), prevKv: true } }], failure: [{ range: { key } }] });
      if (!r.succeeded) return { type: 'fail', error: 'cas_mismatch' };
      const put = r.responses[0];
      const prev = put !== undefined && 'put' in put ? put.put.prevKv : undefined;
      return { type: 'ok', value, expected, revision: r.header.revision, mod_revision: r.header.revision, version: (prev?.version ?? 0) + 1 };
    });
    if (done.type === 'ok' && g.key === key) g.last = value;
    if (done.type === 'info' && g.key === key) g.infoWrites++;
  }

  return {
    name: 'register',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      const threads = makeThreads(ctx, ctx.config.concurrency);
      const groups: Group[] = [];
      const groupOf = (t: Thread): Group => {
        const gi = Math.floor(t.id / MAX_PROCESSES_PER_KEY);
        let g = groups[gi];
        if (g === undefined) groups[gi] = g = { key: freshKey(), ops: 0, infoWrites: 0, last: null };
        return g;
      };
      await runThreads(ctx, threads, (t) => {
        const g = groupOf(t);
        return loop(ctx, limiter, () => step(ctx, clients, t, g));
      });
    },
    async final(ctx) {
      await finalReads(ctx, keys);
      const clients = new Clients(ctx);
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}

/**
 * Reads each key from each member: linearizable first, then serializable once the member has
 * applied the highest revision the linearizable reads saw (see the file comment).
 */
export async function finalReads(ctx: RunContext, keys: readonly string[], catchUpMs = 10_000): Promise<void> {
  const clients = new Clients(ctx);
  const nodes = liveNodes(ctx).filter((n) => ctx.db.state(n) === 'up');
  let maxRev = 0;
  for (const serializable of [false, true]) {
    await Promise.all(
      nodes.map(async (node) => {
        const t = new Thread(ctx, -1, node);
        let stale: string | undefined;
        if (serializable) {
          const deadline = performance.now() + catchUpMs;
          let seen = 0;
          for (let i = 0; i < 1000 && performance.now() < deadline; i++) {
            try {
              seen = (await clients.of(node).range({ key: REGISTER_PREFIX, serializable: true, countOnly: true })).header.revision;
            } catch {
              // not serving yet
            }
            if (seen >= maxRev) break;
            await sleep(100);
          }
          if (seen < maxRev) stale = `stale-member: ${node} applied revision ${seen} < ${maxRev} after ${catchUpMs} ms`;
        }
        for (const key of keys) {
          const done = await perform(ctx, clients, t, { f: 'read', key }, async (c) => {
            if (stale !== undefined) return { type: 'fail', error: stale };
            const r = await c.range({ key, serializable });
            const kv = r.kvs[0];
            return { type: 'ok', value: kv === undefined ? null : parseValue(kv.value), revision: r.header.revision, ...kvFields(kv) };
          }, node);
          if (done.type === 'ok' && done.revision !== undefined) maxRev = Math.max(maxRev, done.revision);
        }
      }),
    );
  }
}
