/**
 * The summary etcd's benchmark tool prints (pkg/report in etcd 3.4), reproduced so that a
 * tsetcd-bench run and an etcd `benchmark` run can be read side by side:
 *
 *   Summary:
 *     Total:	2.0104 secs.
 *     Slowest:	0.0123 secs.
 *     Fastest:	0.0004 secs.
 *     Average:	0.0019 secs.
 *     Stddev:	0.0011 secs.
 *     Requests/sec:	4974.1289
 *
 *   Response time histogram:
 *     0.0004 [1]	|
 *     0.0016 [4711]	|∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎∎
 *     ...
 *
 *   Latency distribution:
 *     10% in 0.0010 secs.
 *     ...
 *     99.9% in 0.0101 secs.
 *
 * Numbers use Go's "%4.4f", or "%g" with --precise. Latencies are seconds. Requests/sec counts
 * successful requests over the whole run (etcd's Total: first request to last completion).
 * Failed requests are counted only in the error distribution, by message.
 */

const BAR_CHAR = '∎';
/** The percentiles etcd prints, in its order. */
export const PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.9] as const;
const HISTOGRAM_BUCKETS = 10;
const BAR_WIDTH = 40;

export interface Stats {
  /** Wall seconds of the run (etcd's Total). */
  readonly totalSeconds: number;
  /** Successful requests' latencies in seconds, ascending. */
  readonly lats: Float64Array;
  readonly fastest: number;
  readonly slowest: number;
  readonly average: number;
  /** Population standard deviation, as etcd computes it. */
  readonly stddev: number;
  readonly rps: number;
  /** Failed requests by message. */
  readonly errors: ReadonlyMap<string, number>;
}

/**
 * Stats over `latsSeconds` (any order; sorted in place) for a run of `totalSeconds`.
 * Average and Stddev are computed before sorting, in input order, as etcd does; the sum is
 * the same either way up to rounding.
 */
export function computeStats(latsSeconds: Float64Array, totalSeconds: number, errors: ReadonlyMap<string, number> = new Map()): Stats {
  const n = latsSeconds.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += latsSeconds[i] as number;
  const average = sum / n;
  let dev2 = 0;
  for (let i = 0; i < n; i++) {
    const d = (latsSeconds[i] as number) - average;
    dev2 += d * d;
  }
  latsSeconds.sort();
  return {
    totalSeconds,
    lats: latsSeconds,
    fastest: n > 0 ? (latsSeconds[0] as number) : 0,
    slowest: n > 0 ? (latsSeconds[n - 1] as number) : 0,
    average,
    stddev: Math.sqrt(dev2 / n),
    rps: n / totalSeconds,
    errors,
  };
}

/**
 * etcd 3.4's percentiles: walking the sorted latencies, the p-th percentile is the first one at
 * or past p% of the way (index i with i*100/n >= p). A percentile the walk never reaches (tiny
 * samples) stays 0 and is not printed.
 */
export function etcdPercentiles(sorted: Float64Array): number[] {
  const data = PERCENTILES.map(() => 0);
  const n = sorted.length;
  let j = 0;
  for (let i = 0; i < n && j < PERCENTILES.length; i++) {
    const current = (i * 100) / n;
    if (current >= (PERCENTILES[j] as number)) {
      // One percentile per index, as etcd: with few samples the later ones shift right.
      data[j] = sorted[i] as number;
      j++;
    }
  }
  return data;
}

/** Go's "%g" with the shortest representation (what --precise prints). */
export function goG(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // Go uses %e when the exponent is < -4 or >= the precision, which is 6 for the shortest form.
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  // In this range JavaScript's shortest form is plain decimal, as Go's %f of the shortest digits.
  return String(x);
}

/** etcd's number format: "%4.4f", or "%g" when precise. */
export function fmtNumber(x: number, precise: boolean): string {
  if (precise) return goG(x);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  return x.toFixed(4).padStart(4, ' ');
}

const sec = (x: number, precise: boolean): string => `${fmtNumber(x, precise)} secs`;

/** etcd's ten-bucket histogram between Fastest and Slowest, bars scaled to the fullest bucket. */
export function histogram(s: Stats, precise: boolean): string {
  const buckets: number[] = [];
  const counts: number[] = new Array<number>(HISTOGRAM_BUCKETS + 1).fill(0);
  const width = (s.slowest - s.fastest) / HISTOGRAM_BUCKETS;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) buckets.push(s.fastest + width * i);
  buckets.push(s.slowest);
  let bi = 0;
  let max = 0;
  // Each latency goes to the first bucket whose upper mark is >= it. Bounded: i or bi advances
  // every step, and the last mark is the largest latency.
  for (let i = 0; i < s.lats.length; ) {
    const lat = s.lats[i] as number;
    if (lat <= (buckets[bi] as number) || bi === buckets.length - 1) {
      i++;
      counts[bi] = (counts[bi] as number) + 1;
      if (max < (counts[bi] as number)) max = counts[bi] as number;
    } else bi++;
  }
  let out = '\nResponse time histogram:\n';
  for (let i = 0; i < buckets.length; i++) {
    const c = counts[i] as number;
    const barLen = max > 0 ? Math.floor((c * BAR_WIDTH) / max) : 0;
    out += `  ${fmtNumber(buckets[i] as number, precise)} [${c}]\t|${BAR_CHAR.repeat(barLen)}\n`;
  }
  return out;
}

export function latencyDistribution(s: Stats, precise: boolean): string {
  const data = etcdPercentiles(s.lats);
  let out = '\nLatency distribution:\n';
  PERCENTILES.forEach((p, i) => {
    const v = data[i] as number;
    if (v > 0) out += `  ${p}% in ${sec(v, precise)}.\n`;
  });
  return out;
}

/** Most frequent first (etcd prints Go map order, which is random). */
export function errorDistribution(errors: ReadonlyMap<string, number>): string {
  let out = '\nError distribution:\n';
  for (const [msg, n] of [...errors.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) out += `  [${n}]\t${msg}\n`;
  return out;
}

/** The whole report, as etcd's `report.String()`: empty when nothing succeeded and nothing failed. */
export function formatReport(s: Stats, precise: boolean): string {
  let out = '';
  if (s.lats.length > 0) {
    out += '\nSummary:\n';
    out += `  Total:\t${sec(s.totalSeconds, precise)}.\n`;
    out += `  Slowest:\t${sec(s.slowest, precise)}.\n`;
    out += `  Fastest:\t${sec(s.fastest, precise)}.\n`;
    out += `  Average:\t${sec(s.average, precise)}.\n`;
    out += `  Stddev:\t${sec(s.stddev, precise)}.\n`;
    out += `  Requests/sec:\t${fmtNumber(s.rps, precise)}\n`;
    out += histogram(s, precise);
    out += latencyDistribution(s, precise);
  }
  if (s.errors.size > 0) out += errorDistribution(s.errors);
  return out;
}

/** The same figures for --json: seconds, and percentiles keyed "p50", "p99.9". */
export function statsJson(s: Stats): Record<string, unknown> {
  const data = etcdPercentiles(s.lats);
  const pct: Record<string, number> = {};
  PERCENTILES.forEach((p, i) => (pct[`p${p}`] = data[i] as number));
  return {
    count: s.lats.length,
    totalSeconds: s.totalSeconds,
    slowest: s.slowest,
    fastest: s.fastest,
    average: s.lats.length > 0 ? s.average : 0,
    stddev: s.lats.length > 0 ? s.stddev : 0,
    requestsPerSec: s.rps,
    percentiles: pct,
    errors: Object.fromEntries(s.errors),
    errorCount: [...s.errors.values()].reduce((a, b) => a + b, 0),
  };
}
