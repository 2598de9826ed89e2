/**
 * lock (JEPSEN-LITE.md item 12, positive control): a lease-based mutex on one key guarding a
 * read-sleep-write of a record.
 *
 *   lock-acquire: LeaseGrant(2 s), then Txn If create_revision(lock) == 0 Then Put lock (lease)
 *                 ok mod_revision = the lock key's revision (the fencing token); held → fail 'held'
 *                 The holder keeps its lease alive (every 500 ms) until it releases.
 *   lock-write:   read the record, sleep 10–100 ms, write it.
 *                 Without fencing the record is harness-side memory and the write always lands.
 *                 With fencing it is the key jl/lock/record, written by
 *                 Txn If mod_revision(lock) == token Then Put; a stale token → fail 'fenced'.
 *   lock-release: Txn If mod_revision(lock) == token Then Delete lock; then LeaseRevoke.
 *
 * Under a pause nemesis a paused holder's lease expires and another process takes the lock
 * while the first still believes it holds it: without fencing the checker (checkers/lock.ts)
 * must find overlapping holds; with fencing the stale holder's write is refused.
 */
import type { EtcdClient, LeaseKeepAliveStream } from '../../src/client/index.js';
import type { RunContext, Workload } from '../types.js';
import type { Thread} from './common.js';
import { Clients, RateLimiter, loop, makeThreads, perform, runThreads, sleep } from './common.js';
import { Collectors, finalRevision } from './collectors.js';

export const LOCK_KEY = 'jl/lock/0';
export const LOCK_RECORD_KEY = 'jl/lock/record';
const LEASE_TTL_S = 2;

export function lockWorkload(opts: { fencing: boolean } = { fencing: true }): Workload {
  let collectors: Collectors | undefined;
  let record = 0;
  let nextValue = 1;

  async function hold(ctx: RunContext, clients: Clients, t: Thread, limiter: RateLimiter): Promise<void> {
    const node = t.node();
    let lease = 0n;
    const acquired = await perform(
      ctx,
      clients,
      t,
      { f: 'lock-acquire', key: LOCK_KEY },
      async (c) => {
        lease = (await c.leaseGrant(LEASE_TTL_S)).id;
        const r = await c.txn({ compare: [{ key: LOCK_KEY, target: 'create', result: '=', value: 0 }], success: [{ put: { key: LOCK_KEY, value: String(t.process), lease } }] });
        if (!r.succeeded) return { type: 'fail', error: 'held' };
        return { type: 'ok', lease: lease.toString(), revision: r.header.revision, mod_revision: r.header.revision };
      },
      node,
    );
    const c: EtcdClient = clients.of(node);
    if (acquired.type !== 'ok' || acquired.mod_revision === undefined) {
      if (lease !== 0n) c.leaseRevoke(lease).catch(() => undefined);
      await sleep(ctx.prng.range(20, 100), ctx.signal);
      return;
    }
    const token = acquired.mod_revision;
    let keepAlive: LeaseKeepAliveStream | undefined;
    let holding = true;
    const keeper = (async () => {
      for (let i = 0; i < 100_000 && holding; i++) {
        await sleep(500);
        if (!holding) break;
        try {
          keepAlive ??= c.leaseKeepAlive();
          await keepAlive.send(lease);
        } catch {
          keepAlive?.close();
          keepAlive = undefined;
        }
      }
    })();
    try {
      const writes = ctx.prng.range(1, 3);
      for (let i = 0; i < writes && !ctx.signal.aborted; i++) {
        await limiter.take(ctx.signal);
        const value = nextValue++;
        await perform(
          ctx,
          clients,
          t,
          { f: 'lock-write', key: LOCK_RECORD_KEY, value, ...(opts.fencing ? { mod_revision: token } : {}) },
          async (cl) => {
            const seen = record;
            await sleep(ctx.prng.range(10, 100));
            if (!opts.fencing) {
              record = value;
              return { type: 'ok', value, expected: seen };
            }
            const r = await cl.txn({ compare: [{ key: LOCK_KEY, target: 'mod', result: '=', value: token }], success: [{ put: { key: LOCK_RECORD_KEY, value: String(value) } }] });
            if (!r.succeeded) return { type: 'fail', error: 'fenced' };
            record = value;
            return { type: 'ok', value, expected: seen, revision: r.header.revision, mod_revision: token };
          },
          node,
        );
      }
      await perform(
        ctx,
        clients,
        t,
        { f: 'lock-release', key: LOCK_KEY, lease: lease.toString() },
        async (cl) => {
          const r = await cl.txn({ compare: [{ key: LOCK_KEY, target: 'mod', result: '=', value: token }], success: [{ deleteRange: { key: LOCK_KEY } }] });
          await cl.leaseRevoke(lease).catch(() => undefined);
          return { type: 'ok', revision: r.header.revision, value: r.succeeded ? 'released' : 'not-held' };
        },
        node,
      );
    } finally {
      holding = false;
      keepAlive?.close();
      await keeper;
    }
  }

  return {
    name: 'lock',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      await runThreads(ctx, makeThreads(ctx, ctx.config.concurrency), (t) => loop(ctx, limiter, () => hold(ctx, clients, t, limiter)));
    },
    async final(ctx) {
      const clients = new Clients(ctx);
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}
