/**
 * lock (JEPSEN-LITE.md item 12, positive control): the server's Lock service (v3lockpb, etcd's
 * Mutex) guarding a read-sleep-write of a record. Each hold goes the way `etcdctl lock` does:
 * a session lease, kept alive from its grant until the session ends, then Lock, then Unlock.
 *
 *   lock-acquire: LeaseGrant(2 s) and keep it alive every 500 ms (waiting included: a waiter
 *                 whose lease lapses leaves the queue), then Lock(LOCK_NAME, lease), which waits
 *                 until every waiter ahead is gone and returns the waiter key, then a Range of
 *                 that key for its create revision: the fencing token, recorded as the ok's
 *                 `mod_revision` (`revision` is the Lock response's header revision). A key that
 *                 is already gone (the lease lapsed meanwhile) fails the acquire with 'lost'.
 *   lock-write:   read the record, sleep 10–100 ms, write it.
 *                 Without fencing the record is harness-side memory and the write always lands.
 *                 With fencing the invoke carries the token and the write is
 *                 Txn If create_revision(waiter key) == token Then Put jl/lock/record;
 *                 a stale token (the key was deleted) → fail 'fenced'.
 *   lock-release: Unlock(waiter key), then LeaseRevoke.
 *
 * The tokens only grow: the Lock service grants in create-revision order, and a holder whose key
 * is gone can no longer pass the fence. Under a pause nemesis a holder's lease can lapse while it
 * still believes it holds the lock, and the next waiter is granted: without fencing the checker
 * (checkers/lock.ts) must find overlapping holds; with fencing the stale write is refused. With
 * the server's 'lock-without-lease-check' bug switch Lock grants at once, so holders overlap and
 * a write with a smaller token lands after one with a larger token: INVALID either way.
 */
import type { EtcdClient, LeaseKeepAliveStream } from '../../src/client/index.js';
import type { RunContext, Workload } from '../types.js';
import type { Thread } from './common.js';
import { Clients, RateLimiter, loop, makeThreads, perform, runThreads, sleep } from './common.js';
import { Collectors, finalRevision } from './collectors.js';

/** The lock's name: waiter keys are `jl/lock/0/<lease hex>`. */
export const LOCK_NAME = 'jl/lock/0';
export const LOCK_RECORD_KEY = 'jl/lock/record';
const LEASE_TTL_S = 2;
const KEEPALIVE_INTERVAL_MS = 500;
/**
 * Lock's deadline: all threads queue on one lock, and a hold takes up to a few hundred ms, so
 * with 10 threads the wait is a few seconds when the cluster is healthy. A Lock that is still
 * waiting at the deadline is recorded as info (its waiter key may still be queued).
 */
const LOCK_TIMEOUT_MS = 15_000;
/** Upper bound on keep-alives of one session: 500 ms apart, that is far longer than any run. */
const MAX_KEEPALIVES = 100_000;

/**
 * A session, as `etcdctl lock` makes one: a lease kept alive from its grant until end(). A
 * keep-alive that fails (the member is paused or down) is retried on a new stream at the next
 * tick; if the lease lapses meanwhile, the lock key goes with it, which is what the fence is for.
 */
class Session {
  private stream: LeaseKeepAliveStream | undefined;
  private readonly stop = new AbortController();
  private readonly keeper: Promise<void>;
  private ended = false;

  constructor(
    private readonly client: EtcdClient,
    readonly lease: bigint,
  ) {
    this.keeper = this.keepAlive();
  }

  private async keepAlive(): Promise<void> {
    for (let i = 0; i < MAX_KEEPALIVES && !this.stop.signal.aborted; i++) {
      await sleep(KEEPALIVE_INTERVAL_MS, this.stop.signal);
      if (this.stop.signal.aborted) break;
      try {
        this.stream ??= this.client.leaseKeepAlive({ timeoutMs: KEEPALIVE_INTERVAL_MS * 2 });
        // TTL <= 0: the lease is gone (expired or revoked); nothing left to keep.
        if ((await this.stream.send(this.lease)).ttl <= 0) break;
      } catch {
        this.stream?.close();
        this.stream = undefined;
      }
    }
  }

  /** Stops the keep-alives and revokes the lease, once; a failed revoke is fine: the lease lapses. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stop.abort();
    this.stream?.close();
    this.stream = undefined;
    await this.keeper;
    await this.client.leaseRevoke(this.lease).catch(() => undefined);
  }

  /** end() without waiting for it: takes a failed waiter out of the queue before its lease lapses. */
  abandon(): void {
    void this.end();
  }
}

export function lockWorkload(opts: { fencing: boolean } = { fencing: true }): Workload {
  let collectors: Collectors | undefined;
  let record = 0;
  let nextValue = 1;

  async function hold(ctx: RunContext, clients: Clients, t: Thread, limiter: RateLimiter): Promise<void> {
    // One member for the whole hold: session, Lock, writes and Unlock.
    const node = t.node();
    let session: Session | undefined;
    let lockKey: Buffer | undefined;
    const acquired = await perform(
      ctx,
      clients,
      t,
      { f: 'lock-acquire', key: LOCK_NAME },
      async (c) => {
        const lease = (await c.leaseGrant(LEASE_TTL_S)).id;
        session = new Session(c, lease);
        const r = await c.lock(LOCK_NAME, lease, { timeoutMs: LOCK_TIMEOUT_MS });
        lockKey = r.key;
        // Lock's header revision is when the wait ended, not the key's: read the key's create
        // revision, which orders the waiters and so is the token.
        const kv = (await c.range({ key: r.key })).kvs[0];
        // Granted, but the lease lapsed before we could act: we never held it usefully.
        if (kv === undefined) return { type: 'fail', error: 'lost' };
        if (kv.lease !== lease) throw new Error(`lock key ${r.key.toString()} has lease ${kv.lease}, not ours (${lease})`);
        return { type: 'ok', lease: lease.toString(), revision: r.header.revision, mod_revision: kv.createRevision };
      },
      node,
    );
    const s = session as Session | undefined;
    const key = lockKey as Buffer | undefined;
    if (acquired.type !== 'ok' || acquired.mod_revision === undefined || s === undefined || key === undefined) {
      // Out of the queue at once rather than when the lease lapses.
      s?.abandon();
      await sleep(ctx.prng.range(20, 100), ctx.signal);
      return;
    }
    const token = acquired.mod_revision;
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
            const r = await cl.txn({ compare: [{ key, target: 'create', result: '=', value: token }], success: [{ put: { key: LOCK_RECORD_KEY, value: String(value) } }] });
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
        { f: 'lock-release', key: LOCK_NAME, lease: s.lease.toString() },
        async (cl) => {
          const r = await cl.unlock(key);
          // As etcdctl does when its session ends; the lock is already released either way.
          await s.end();
          return { type: 'ok', revision: r.header.revision };
        },
        node,
      );
    } finally {
      // A no-op after a release that went through; after one that did not, revoking the lease
      // frees the lock for the others now rather than when the lease lapses.
      s.abandon();
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
