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
