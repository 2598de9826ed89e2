/**
 * The cluster simulation itself: a run is a function of its seed, and it can fail. The CI runs
 * 200 seeds and every bug switch through `npm run sim:cluster` (package.json's test script);
 * this file keeps the two properties every one of those runs depends on under vitest.
 */
import { describe, expect, it } from 'vitest';
import { runSeed } from './run.js';

describe('sim:cluster', () => {
  it('gives the same history for the same seed, and another for another seed', async () => {
    const a = await runSeed({ seed: 11, durationMs: 6000 });
    const b = await runSeed({ seed: 11, durationMs: 6000 });
    const other = await runSeed({ seed: 12, durationMs: 6000 });
    expect(a.failures).toEqual([]);
    expect(a.ops).toBeGreaterThan(100);
    expect(b.hash).toBe(a.hash);
    expect(b.steps).toBe(a.steps);
    expect(other.hash).not.toBe(a.hash);
  });

  it('fails a run whose member serves linearizable reads without ReadIndex (a positive control)', async () => {
    const r = await runSeed({ seed: 1, bugs: ['read-without-readindex'] });
    expect(r.ok).toBe(false);
    expect(r.failures.join('\n')).toMatch(/nonlinearizable|stale-header|stale-read/);
  });
});
