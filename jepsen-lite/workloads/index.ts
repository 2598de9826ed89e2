/**
 * The workloads by name (JEPSEN-LITE.md items 6–12). Each call makes a fresh Workload: it keeps
 * the state its final phase needs (keys used, collectors) between run() and final().
 */
import type { Workload, WorkloadName } from '../types.js';
import { appendWorkload } from './append.js';
import { leaseWorkload } from './lease.js';
import { registerWorkload } from './register.js';
import { setWorkload } from './set.js';
import { watchWorkload } from './watch.js';
import { wrWorkload } from './wr.js';

function notImplemented(name: WorkloadName, item: number): () => Workload {
  return () => {
    throw new Error(`workload '${name}' (JEPSEN-LITE.md item ${item}, SHOULD) is not implemented yet`);
  };
}

export const workloads: Record<WorkloadName, () => Workload> = {
  register: registerWorkload,
  append: appendWorkload,
  watch: watchWorkload,
  lease: leaseWorkload,
  wr: wrWorkload,
  set: setWorkload,
  lock: notImplemented('lock', 12),
};

export { appendWorkload, leaseWorkload, registerWorkload, setWorkload, watchWorkload, wrWorkload };
