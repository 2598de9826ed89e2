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

/** A lessor on a fake clock (minimum TTL 2 s unless given). */
export function newLessor(options: Partial<Omit<LessorOptions, 'clock'>> = {}, clock = new FakeClock()): { lessor: Lessor; clock: FakeClock } {
  const lessor = new Lessor({ clock, minTtlSeconds: 2, ...options });
  return { lessor, clock };
}

/**
 * Revokes the way the server does: read the keys to delete (in one revision), then revoke.
 * Returns the keys as strings. A missing lease throws LeaseNotFound from keys(), before anything.
 */
export function revokeWithKeys(lessor: Lessor, id: bigint): string[] {
  const keys = lessor.keys(id).map(str);
  lessor.revoke(id);
  return keys;
}
