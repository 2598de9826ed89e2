/**
 * What every checker returns (JEPSEN-LITE.md item 33): a verdict, anomalies with minimal
 * witnesses, and stats. A checker that could not decide says 'unknown' — it never passes silently.
 *
 * Witnesses name history events by their `index` (the line's index field), so the report can
 * link and draw them; anomalies that concern watch records or log lines say so in `details`.
 */
export type Verdict = true | false | 'unknown';

export interface Anomaly {
  /** A stable name: 'nonlinearizable', 'stale-read', 'G0', 'watch-gap', 'panic', ... */
  readonly type: string;
  /** One sentence a person can act on. */
  readonly message: string;
  /** History event indices involved (invoke and completion of each op), smallest witness first. */
  readonly events: readonly number[];
  readonly key?: string;
  readonly details?: unknown;
}

export interface CheckResult {
  readonly checker: string;
  readonly valid: Verdict;
  readonly anomalies: readonly Anomaly[];
  /** Counts by anomaly type (all of them, even past the reporting cap) and checker figures. */
  readonly stats: Readonly<Record<string, number | string>>;
}

/** Anomalies kept per type; the rest are only counted, so results.json stays readable. */
export const MAX_ANOMALIES_PER_TYPE = 20;

/**
 * Collects anomalies for one checker: caps each type at MAX_ANOMALIES_PER_TYPE and counts all.
 * `unknown` records why the checker could not decide (a timeout, missing ground truth).
 */
export class AnomalySink {
  readonly anomalies: Anomaly[] = [];
  readonly counts = new Map<string, number>();
  readonly unknownReasons: string[] = [];

  add(a: Anomaly): void {
    const n = (this.counts.get(a.type) ?? 0) + 1;
    this.counts.set(a.type, n);
    if (n <= MAX_ANOMALIES_PER_TYPE) this.anomalies.push(a);
  }

  unknown(reason: string): void {
    if (this.unknownReasons.length < MAX_ANOMALIES_PER_TYPE) this.unknownReasons.push(reason);
  }

  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  result(checker: string, stats: Record<string, number | string>): CheckResult {
    const all: Record<string, number | string> = { ...stats };
    for (const [type, n] of this.counts) all[`anomalies.${type}`] = n;
    if (this.unknownReasons.length > 0) all['unknown'] = this.unknownReasons.join('; ');
    const valid: Verdict = this.size > 0 ? false : this.unknownReasons.length > 0 ? 'unknown' : true;
    return { checker, valid, anomalies: this.anomalies, stats: all };
  }
}

/** Combines verdicts: any false is false, else any unknown is unknown. */
export function combineVerdicts(vs: Iterable<Verdict>): Verdict {
  let out: Verdict = true;
  for (const v of vs) {
    if (v === false) return false;
    if (v === 'unknown') out = 'unknown';
  }
  return out;
}
