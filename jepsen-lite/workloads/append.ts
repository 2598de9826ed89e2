/**
 * append (JEPSEN-LITE.md item 7): Elle list-append transactions of 1–4 micro-ops over a small
 * active key set (8–16 keys; a key that has taken ~200 appends is replaced by a fresh one). Each
 * key holds a JSON list of numbers; appended numbers are unique over the run.
 *
 * A txn with appends runs in two requests:
 *   1. read phase: one read-only Txn ranging every key the txn appends to (values, mod_revisions);
 *   2. one Txn guarded by `mod_revision(k) == seen` for every appended key (0 when absent) whose
 *      success branch runs the micro-ops in order: an append is a Put of the list seen plus the
 *      new element, a read is a Range (which sees the txn's own earlier puts, as etcd's do).
 * A guard that fails means another txn wrote a key in between: nothing was written, so the op is
 * a definite `fail` ('guard_failed'). A txn of reads only is one read-only Txn.
 *
 * etcd refuses two puts of one key in a txn, so a txn appends to each key at most once.
 *
 * Example: [['append','jl/append/3',17], ['r','jl/append/5',null]] → read phase ranges
 * jl/append/3 (["12"] at mod 40) → Txn If mod(jl/append/3)==40 Then Put jl/append/3 [12,17],
 * Range jl/append/5 → ok txn [['append','jl/append/3',17], ['r','jl/append/5',[3,9]]].
 */
import type { Compare, EtcdClient, RequestOp, TxnResponse } from '../../src/client/index.js';
import type { MicroOp } from '../history.js';
import type { RunContext, Workload } from '../types.js';
import { Clients, RateLimiter, Thread, loop, makeThreads, perform, runThreads, type Outcome } from './common.js';
import { Collectors, finalRevision } from './collectors.js';

export const APPEND_PREFIX = 'jl/append/';
export const APPENDS_PER_KEY = 200;

export function parseList(raw: Buffer, key: string): number[] {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new Error(`garbage in ${key}: ${raw.toString('utf8').slice(0, 80)}`, { cause: e });
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new Error(`garbage in ${key}: not a list of numbers`);
  return v as number[];
}

export function appendWorkload(): Workload {
  let collectors: Collectors | undefined;
  const allKeys: string[] = [];
  let nextKey = 0;
  let nextValue = 1;
  let active: string[] = [];
  const appends = new Map<string, number>();
  const freshKey = (): string => {
    const k = `${APPEND_PREFIX}${nextKey++}`;
    allKeys.push(k);
    return k;
  };

  function generate(ctx: RunContext): MicroOp[] {
    const n = ctx.prng.range(1, 4);
    const out: MicroOp[] = [];
    const appended = new Set<string>();
    for (let i = 0; i < n; i++) {
      const slot = ctx.prng.int(active.length);
      const key = active[slot] as string;
      if (ctx.prng.chance(0.5) && !appended.has(key)) {
        appended.add(key);
        out.push(['append', key, nextValue++]);
        const count = (appends.get(key) ?? 0) + 1;
        appends.set(key, count);
        if (count >= APPENDS_PER_KEY) active[slot] = freshKey();
      } else {
        out.push(['r', key, null]);
      }
    }
    return out;
  }

  async function execute(c: EtcdClient, txn: readonly MicroOp[]): Promise<Outcome> {
    const appendKeys = [...new Set(txn.filter((m) => m[0] === 'append').map((m) => m[1]))];
    const seen = new Map<string, { list: number[]; mod: number }>();
    if (appendKeys.length > 0) {
      const r = await c.txn({ success: appendKeys.map((key) => ({ range: { key } })) });
      appendKeys.forEach((key, i) => {
        const resp = r.responses[i];
        const kv = resp !== undefined && 'range' in resp ? resp.range.kvs[0] : undefined;
        seen.set(key, kv === undefined ? { list: [], mod: 0 } : { list: parseList(kv.value, key), mod: kv.modRevision });
      });
    }
    const compare: Compare[] = appendKeys.map((key) => ({ key, target: 'mod', result: '=', value: seen.get(key)?.mod ?? 0 }));
    const success: RequestOp[] = txn.map((m) => {
      if (m[0] === 'append') return { put: { key: m[1], value: JSON.stringify([...(seen.get(m[1])?.list ?? []), m[2]]) } };
      return { range: { key: m[1] } };
    });
    const r: TxnResponse = await c.txn({ compare, success });
    if (!r.succeeded) return { type: 'fail', error: 'guard_failed' };
    const done: MicroOp[] = txn.map((m, i): MicroOp => {
      if (m[0] !== 'r') return m;
      const resp = r.responses[i];
      const kv = resp !== undefined && 'range' in resp ? resp.range.kvs[0] : undefined;
      return ['r', m[1], kv === undefined ? null : parseList(kv.value, m[1])];
    });
    return { type: 'ok', txn: done, revision: r.header.revision };
  }

  async function step(ctx: RunContext, clients: Clients, t: Thread): Promise<void> {
    const txn = generate(ctx);
    await perform(ctx, clients, t, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, (c) => execute(c, txn));
  }

  return {
    name: 'append',
    async run(ctx) {
      collectors = new Collectors(ctx);
      collectors.start();
      const n = ctx.prng.range(8, 16);
      active = [];
      for (let i = 0; i < n; i++) active.push(freshKey());
      const clients = new Clients(ctx);
      const limiter = new RateLimiter(ctx.config.rate);
      await runThreads(ctx, makeThreads(ctx, ctx.config.concurrency), (t) => loop(ctx, limiter, () => step(ctx, clients, t)));
    },
    async final(ctx) {
      // One read-only txn per member and group of keys: every key's final list, linearizable.
      const clients = new Clients(ctx);
      for (const node of ctx.db.nodes.map((x) => x.name).filter((x) => ctx.db.state(x) === 'up')) {
        const t = new Thread(ctx, -1, node);
        for (let i = 0; i < allKeys.length; i += 4) {
          const txn: MicroOp[] = allKeys.slice(i, i + 4).map((k): MicroOp => ['r', k, null]);
          await perform(ctx, clients, t, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, (c) => execute(c, txn), node);
        }
      }
      const rev = await finalRevision(ctx, clients);
      if (collectors !== undefined) await collectors.finish(rev);
    },
  };
}
