export {
  Lessor,
  minLeaseTtlSeconds,
  MAX_LEASE_TTL_SECONDS,
  DEFAULT_EXPIRED_RETRY_MS,
  type Checkpoint,
  type Clock,
  type LeaseInfo,
  type LessorOptions,
  type TimeToLive,
} from './lessor.js';
export { LeaseHeap, type HeapEntry } from './lease-heap.js';
