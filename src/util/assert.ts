/**
 * Assertions for programmer errors. A failed assertion means the process's own state is wrong,
 * so it throws an AssertionError that nothing is expected to catch: the member crashes rather
 * than serve or persist wrong data. Expected failures (bad input, no leader, ...) are catalog
 * errors in src/errors.ts, never assertions.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** For switch statements over a union: the compiler proves this is unreachable. */
export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
