import { Lessor, type Clock, type LessorOptions } from '../../src/lease/index.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public ms = 1_000_000) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');
export const str = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export interface Deleted {
  readonly leaseId: bigint;
  readonly keys: string[];
}

/** A lessor on a fake clock that records every deleteKeys call. */
export function newLessor(options: Partial<Omit<LessorOptions, 'clock' | 'deleteKeys'>> = {}, clock = new FakeClock()): {
  lessor: Lessor;
  clock: FakeClock;
  deleted: Deleted[];
} {
  const deleted: Deleted[] = [];
  const lessor = new Lessor({
    clock,
    minTtlSeconds: 2,
    deleteKeys: (keys, leaseId) => deleted.push({ leaseId, keys: keys.map(str) }),
    ...options,
  });
  return { lessor, clock, deleted };
}
