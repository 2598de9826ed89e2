/**
 * Starting a benchmark's worker threads from its own module, whether it runs as TypeScript
 * through tsx (npm scripts) or as compiled JavaScript (dist/, the `tsetcd-bench` bin).
 */
import { Worker } from 'node:worker_threads';

/**
 * A worker running the module at `moduleUrl`. Under tsx (a .ts URL) a worker cannot take tsx
 * through execArgv on Node 20, so it registers tsx's ESM loader itself and then imports the
 * module; compiled JavaScript is started directly.
 */
export function startModuleWorker(moduleUrl: string, workerData?: unknown): Worker {
  if (moduleUrl.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const src = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl)}); })`;
    return new Worker(src, { eval: true, workerData });
  }
  return new Worker(new URL(moduleUrl), { workerData });
}

/** What a pooled worker posts: `{ type: 'ready' }` once, then one reply per order, by its id. */
export type PoolReply = { readonly type: string; readonly id: number; readonly error?: string } | { readonly type: 'ready' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Worker threads that answer orders by id: each order is posted with a fresh `id`, and the
 * worker's reply carrying that id settles it (`type: 'fatal'` with an `error` rejects it). A
 * worker that fails rejects everything waiting.
 */
export class WorkerPool<O extends { readonly type: string }, R extends PoolReply> {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly moduleUrl: string,
    private readonly workerData: (index: number) => unknown = () => undefined,
  ) {}

  get size(): number {
    return this.workers.length;
  }

  /** Starts n workers and waits (at most 30 s) until each has posted `ready`. */
  async start(n: number): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const w = startModuleWorker(this.moduleUrl, this.workerData(i));
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`worker ${i} not ready within 30 s`)), 30_000);
          w.on('message', (m: R) => {
            if (!('id' in m)) {
              clearTimeout(t);
              resolve();
              return;
            }
            const p = this.pending.get(m.id);
            if (!p) return;
            this.pending.delete(m.id);
            if (m.type === 'fatal') p.reject(new Error(`worker ${i}: ${m.error ?? 'failed'}`));
            else p.resolve(m);
          });
          w.on('error', (e) => {
            clearTimeout(t);
            reject(e);
            for (const p of this.pending.values()) p.reject(e);
            this.pending.clear();
          });
        }),
      );
    }
    await Promise.all(ready);
  }

  /** Posts `order` to worker `worker` and resolves with its reply, or rejects after timeoutMs. */
  call<T extends R>(worker: number, order: O, timeoutMs: number): Promise<T> {
    const w = this.workers[worker];
    if (!w) return Promise.reject(new Error(`no worker ${worker}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${worker}: no answer to ${order.type} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(t);
          resolve(r as T);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      w.postMessage({ ...order, id });
    });
  }

  /** The same call on every worker (`order(i)` for worker i). */
  all<T extends R>(order: (worker: number) => O, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.workers.map((_, i) => this.call<T>(i, order(i), timeoutMs)));
  }

  /** Posts `close` to every worker, waits for it to exit (at most 5 s), and terminates what is left. */
  async close(close: O): Promise<void> {
    await Promise.all(
      this.workers.map(async (w, i) => {
        const exited = new Promise((r) => w.once('exit', r));
        await Promise.race([this.call(i, close, 5000).catch(() => undefined), exited]);
        await Promise.race([exited, sleep(1000)]);
        await w.terminate();
      }),
    );
    this.workers.length = 0;
  }
}
