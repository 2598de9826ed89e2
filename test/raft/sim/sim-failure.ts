/**
 * A failed run: a broken invariant, a failed liveness check, or an exception escaping the Raft
 * core. The message starts with `SEED=<n> step=<k>` so that any failure can be replayed with
 * `npm run sim -- --seed <n> --steps <steps> --verbose`.
 */
export class SimFailure extends Error {
  override readonly name = 'SimFailure';

  constructor(
    readonly seed: number,
    readonly step: number,
    readonly reason: string,
    readonly params: string,
    readonly trace: string,
    options?: { cause?: unknown },
  ) {
    super(`SEED=${seed} step=${step}: ${reason}\nparams: ${params}\n--- last events ---\n${trace}`, options);
  }

  /** The one-line form for summaries (an exception's stack is left out). */
  get headline(): string {
    return `SEED=${this.seed} step=${this.step}: ${this.reason.split('\n', 1)[0] ?? ''}`;
  }
}

/**
 * Thrown by the invariant checks; the simulation wraps it into a SimFailure with the seed, the
 * step and the trace.
 */
export class Violation extends Error {
  override readonly name = 'Violation';
}
