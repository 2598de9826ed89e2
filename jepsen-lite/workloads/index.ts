/**
 * The workloads by name (JEPSEN-LITE.md items 6–12). Each call makes a fresh Workload: it keeps
 * the state its final phase needs (keys used, collectors) between run() and final().
 */
import type { Workload, WorkloadName } from '../types.js';
import { appendWorkload } from './append.js';
import { leaseWorkload } from './lease.js';
import { lockWorkload } from './lock.js';
import { registerWorkload } from './register.js';
import { setWorkload } from './set.js';
import { watchWorkload } from './watch.js';
import { wrWorkload } from './wr.js';

export const workloads: Record<WorkloadName, () => Workload> = {
  register: registerWorkload,
  append: appendWorkload,
  watch: watchWorkload,
  lease: leaseWorkload,
  wr: wrWorkload,
  set: setWorkload,
  // With fencing by default (expected to pass); lockWorkload({ fencing: false }) is the
  // positive control that must fail under a pause nemesis.
  lock: () => lockWorkload({ fencing: true }),
};

export { appendWorkload, leaseWorkload, lockWorkload, registerWorkload, setWorkload, watchWorkload, wrWorkload };
