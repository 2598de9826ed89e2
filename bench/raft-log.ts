/**
 * What one append to raft's in-memory log costs as the log grows (it holds every entry since the
 * last snapshot: up to --snapshot-count, 100,000 by default). A member appends one batch per
 * Ready; a flat line here means the cost per write does not grow with the work done.
 *
 * Run: npx tsx bench/raft-log.ts   (prints µs per append of an 8-entry batch at each log length)
 */
import { performance } from 'node:perf_hooks';
import { EntryType, MemoryStorage, type Entry } from '../src/raft/index.js';

const BATCH = 8;
const LENGTHS = [1_000, 10_000, 50_000, 100_000];
const SAMPLE_APPENDS = 500;

const data = new Uint8Array(256);
const entry = (index: number): Entry => ({ index, term: 1, type: EntryType.Normal, data });

const s = new MemoryStorage();
s.bootstrap({ voters: [1n], learners: [] });
let next = 2;
const rows: string[] = [];
for (const length of LENGTHS) {
  // Grow the log to `length` entries (these appends are not measured).
  while (next - 2 < length) {
    s.append(Array.from({ length: BATCH }, (_, i) => entry(next + i)));
    next += BATCH;
  }
  const t0 = performance.now();
  for (let i = 0; i < SAMPLE_APPENDS; i++) {
    s.append(Array.from({ length: BATCH }, (_, j) => entry(next + j)));
    next += BATCH;
  }
  const us = ((performance.now() - t0) * 1000) / SAMPLE_APPENDS;
  rows.push(`| ${length.toLocaleString('en')} | ${us.toFixed(2)} |`);
}
console.log(`| log length (entries) | µs per append of ${BATCH} entries |\n| ---: | ---: |\n${rows.join('\n')}`);
