/**
 * tsetcd-bench's summary against etcd 3.4's pkg/report format, on fixed latencies worked out by
 * hand (the expected text is what etcd's String() prints for the same Stats).
 */
import { describe, expect, it } from 'vitest';
import { computeStats, etcdPercentiles, fmtNumber, formatReport, goG, histogram, statsJson } from '../../bench/tsetcd-bench/report.js';

const LATS = [0.0047, 0.0021, 0.0112, 0.0021, 0.0012, 0.0023, 0.0021];

describe('formatReport', () => {
  it('prints Summary, histogram, latency distribution and errors as etcd does', () => {
    const s = computeStats(Float64Array.from(LATS), 0.5, new Map([['etcdserver: request timed out', 2]]));
    const bar = (n: number): string => '∎'.repeat(n);
    expect(formatReport(s, false)).toBe(
      [
        '',
        'Summary:',
        '  Total:\t0.5000 secs.',
        '  Slowest:\t0.0112 secs.',
        '  Fastest:\t0.0012 secs.',
        '  Average:\t0.0037 secs.',
        '  Stddev:\t0.0032 secs.',
        '  Requests/sec:\t14.0000',
        '',
        'Response time histogram:',
        `  0.0012 [1]\t|${bar(13)}`,
        `  0.0022 [3]\t|${bar(40)}`,
        `  0.0032 [1]\t|${bar(13)}`,
        '  0.0042 [0]\t|',
        `  0.0052 [1]\t|${bar(13)}`,
        '  0.0062 [0]\t|',
        '  0.0072 [0]\t|',
        '  0.0082 [0]\t|',
        '  0.0092 [0]\t|',
        '  0.0102 [0]\t|',
        `  0.0112 [1]\t|${bar(13)}`,
        '',
        'Latency distribution:',
        // Seven samples: etcd's walk reaches only 10..75%; the rest stay 0 and are not printed.
        '  10% in 0.0021 secs.',
        '  25% in 0.0021 secs.',
        '  50% in 0.0023 secs.',
        '  75% in 0.0112 secs.',
        '',
        'Error distribution:',
        '  [2]\tetcdserver: request timed out',
        '',
      ].join('\n'),
    );
  });

  it('prints only the error distribution when nothing succeeded, and nothing for an empty run', () => {
    expect(formatReport(computeStats(new Float64Array(0), 1, new Map([['boom', 3]])), false)).toBe('\nError distribution:\n  [3]\tboom\n');
    expect(formatReport(computeStats(new Float64Array(0), 1), false)).toBe('');
  });

  it('uses %g with --precise', () => {
    const s = computeStats(Float64Array.from([0.000015, 0.25]), 2);
    const text = formatReport(s, true);
    expect(text).toContain('  Total:\t2 secs.\n');
    expect(text).toContain('  Fastest:\t1.5e-05 secs.\n');
    expect(text).toContain('  Slowest:\t0.25 secs.\n');
    expect(text).toContain('  Requests/sec:\t1\n');
    expect(histogram(s, true).split('\n')[2]).toBe('  1.5e-05 [1]\t|' + '∎'.repeat(40));
  });

  it('puts every latency in the first bucket when all are equal, as etcd\'s walk does', () => {
    const s = computeStats(Float64Array.from([0.002, 0.002, 0.002]), 1);
    const lines = histogram(s, false).split('\n');
    expect(lines[2]).toBe(`  0.0020 [3]\t|${'∎'.repeat(40)}`);
    expect(lines.filter((l) => l.includes('[0]'))).toHaveLength(10);
  });
});

describe('etcdPercentiles', () => {
  it('finds 1 in 100 at p99 and 1 in 1000 at p99.9 (etcd report_test)', () => {
    const hundred = new Float64Array(100);
    hundred[99] = 1;
    expect(etcdPercentiles(hundred)[6]).toBe(1);
    const thousand = new Float64Array(1000);
    thousand[999] = 1;
    expect(etcdPercentiles(thousand)[7]).toBe(1);
  });

  it('takes the first sample at or past each percentile', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(etcdPercentiles(xs)).toEqual([101, 251, 501, 751, 901, 951, 991, 1000]);
  });
});

describe('numbers', () => {
  it('formats %4.4f and %g as Go does', () => {
    expect(fmtNumber(0.00004, false)).toBe('0.0000');
    expect(fmtNumber(12345.678912, false)).toBe('12345.6789');
    expect(goG(0)).toBe('0');
    expect(goG(2.5)).toBe('2.5');
    expect(goG(0.0001)).toBe('0.0001');
    expect(goG(0.00001234)).toBe('1.234e-05');
    expect(goG(123456)).toBe('123456');
    expect(goG(1234567)).toBe('1.234567e+06');
  });

  it('gives --json the same figures', () => {
    const j = statsJson(computeStats(Float64Array.from(LATS), 0.5));
    expect(j).toMatchObject({ count: 7, requestsPerSec: 14, slowest: 0.0112, fastest: 0.0012, errorCount: 0 });
    expect((j['percentiles'] as Record<string, number>)['p50']).toBe(0.0023);
  });
});
