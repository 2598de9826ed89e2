/** Small statistics and number formatting shared by the benchmark reports. */

/** The p-quantile (0..1) of an ascending array, nearest rank; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i] as number;
}

/** Median of the finite values; NaN when there are none. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
/** Three significant-ish digits: 123, 12.3, 1.23. */
export const f2 = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '-');
export const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : '-');
/** Server CPU (percent of one core) per operation, in microseconds. */
export const cpuPerOp = (cpuPct: number, opsPerSec: number): number => (opsPerSec > 0 ? ((cpuPct / 100) * 1e6) / opsPerSec : NaN);
