/**
 * What every workload shares (JEPSEN-LITE.md item 5): client threads made of logical processes,
 * pinned or rotating over the members, a rate limit over all of them, and `perform`, which
 * records an op's invoke immediately before its request and its completion immediately after
 * the answer, and turns an unknown outcome into `info` and a fresh process.
 *
 *   await runThreads(ctx, async (t) => {
 *     await perform(ctx, t, { f: 'read', key: 'k' }, async (client) => {
 *       const r = await client.range({ key: 'k' });
 *       return { type: 'ok', value: null, revision: r.header.revision };
 *     });
 *   });
 *
 * A thread stops starting ops once ctx.signal aborts; an op in flight then completes under the
 * client's deadline and is recorded as whatever it turned out to be.
 */
import { ClientError, type EtcdClient, type KeyValue } from '../../src/client/index.js';
import type { ClientEvent, OpF } from '../history.js';
import type { RunContext } from '../types.js';

/** Upper bound on ops one thread issues in a run, so no loop is unbounded. */
export const MAX_OPS_PER_THREAD = 10_000_000;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * One rate over all threads: each op takes the next free slot, 1/rate apart. A thread that finds
 * the slot in the past goes at once (no burst catch-up beyond one slot).
 */
export class RateLimiter {
  private nextMs = 0;
  private readonly gapMs: number;

  constructor(ratePerS: number) {
    this.gapMs = ratePerS > 0 ? 1000 / ratePerS : 0;
  }

  async take(signal: AbortSignal): Promise<void> {
    if (this.gapMs === 0) return;
    const now = performance.now();
    const at = Math.max(now, this.nextMs);
    this.nextMs = at + this.gapMs;
    await sleep(at - now, signal);
  }
}

/** Member names that are not removed, in the db's order. */
export function liveNodes(ctx: RunContext): string[] {
  const names = ctx.db.nodes.map((n) => n.name).filter((n) => ctx.db.state(n) !== 'removed');
  return names.length > 0 ? names : ctx.db.nodes.map((n) => n.name);
}

/**
 * One client per member, taken from the context once: the workload attributes every request to
 * the member it went to, so it never lets a client pick the endpoint. The harness owns (and
 * closes) these clients.
 */
export class Clients {
  private readonly byNode = new Map<string, EtcdClient>();

  constructor(private readonly ctx: RunContext) {}

  of(node: string): EtcdClient {
    let c = this.byNode.get(node);
    if (c === undefined) {
      c = this.ctx.client(node);
      this.byNode.set(node, c);
    }
    return c;
  }
}

/** A client thread: a sequence of logical processes, pinned to one member or rotating. */
export class Thread {
  process: number;
  private turn: number;

  constructor(
    private readonly ctx: RunContext,
    readonly id: number,
    /** The member this thread always talks to, or undefined to rotate. */
    readonly pinned: string | undefined,
  ) {
    this.process = ctx.recorder.newProcess();
    this.turn = id;
  }

  /** The member for the next request. */
  node(): string {
    if (this.pinned !== undefined) return this.pinned;
    const nodes = liveNodes(this.ctx);
    const n = nodes[this.turn % nodes.length] as string;
    this.turn++;
    return n;
  }

  /** After an `info`: the process may still have an op in effect, so it never issues again. */
  retire(): void {
    this.process = this.ctx.recorder.newProcess();
  }
}

/** Even threads pinned to a member (spread over them), odd ones rotating. */
export function makeThreads(ctx: RunContext, count: number): Thread[] {
  const nodes = liveNodes(ctx);
  const out: Thread[] = [];
  for (let i = 0; i < count; i++) out.push(new Thread(ctx, i, i % 2 === 0 ? nodes[(i / 2) % nodes.length] : undefined));
  return out;
}

/** Runs `body` once per thread and waits for all; a body returns when ctx.signal aborts. */
export async function runThreads(ctx: RunContext, threads: readonly Thread[], body: (t: Thread) => Promise<void>): Promise<void> {
  await Promise.all(threads.map((t) => body(t)));
}

export type InvokeFields = Omit<ClientEvent, 'index' | 'time_ns' | 'process' | 'type' | 'node'>;
export type CompleteFields = Omit<ClientEvent, 'index' | 'time_ns' | 'process' | 'type' | 'f' | 'node'>;

/** What an op's body returns: it happened (`ok`), or certainly did not (`fail`). */
export type Outcome = ({ readonly type: 'ok' } | { readonly type: 'fail'; readonly error: string }) & CompleteFields;

export interface Classified {
  readonly type: 'fail' | 'info';
  readonly error: string;
}

/** A ClientError says whether it was definite; anything else (a bug, a decode error) is unknown. */
export function classifyError(e: unknown): Classified {
  if (e instanceof ClientError) return { type: e.definite ? 'fail' : 'info', error: `${e.statusName}: ${e.message}` };
  return { type: 'info', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
}

/**
 * Records one op: invoke, the request, completion. Returns the completion type. On `info` the
 * thread's process is retired. `body` gets the client and member to use.
 */
export async function perform(
  ctx: RunContext,
  clients: Clients,
  t: Thread,
  inv: InvokeFields,
  body: (client: EtcdClient, node: string) => Promise<Outcome>,
  node: string = t.node(),
): Promise<ClientEvent> {
  const process = t.process;
  const client = clients.of(node);
  ctx.recorder.client({ ...inv, process, type: 'invoke', node });
  let out: Outcome;
  try {
    out = await body(client, node);
  } catch (e) {
    const c = classifyError(e);
    const done = ctx.recorder.client({ process, type: c.type, f: inv.f, ...keyOf(inv), error: c.error, node });
    if (c.type === 'info') t.retire();
    return done;
  }
  const { type, ...rest } = out;
  return ctx.recorder.client({ f: inv.f, ...keyOf(inv), ...rest, process, type, node });
}

function keyOf(inv: InvokeFields): { key?: string } {
  return inv.key === undefined ? {} : { key: inv.key };
}

/** Text of a stored value: numbers written by the workloads read back as numbers. */
export function parseValue(v: Buffer): number | string {
  const s = v.toString('utf8');
  return /^-?\d{1,15}$/.test(s) ? Number(s) : s;
}

/** The kv fields a history event carries. */
export function kvFields(kv: KeyValue | undefined): { mod_revision?: number; version?: number } {
  return kv === undefined ? {} : { mod_revision: kv.modRevision, version: kv.version };
}

/** Ops of one f issued by a body; the default loop of a thread. */
export async function loop(ctx: RunContext, limiter: RateLimiter, step: () => Promise<void>): Promise<void> {
  for (let i = 0; i < MAX_OPS_PER_THREAD && !ctx.signal.aborted; i++) {
    await limiter.take(ctx.signal);
    if (ctx.signal.aborted) break;
    await step();
  }
}

/** Fields shared by every invoke of `f` on `key`. */
export function op(f: OpF, key?: string): { f: OpF; key?: string } {
  return key === undefined ? { f } : { f, key };
}
