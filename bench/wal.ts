/**
 * WAL group commit against the disk's own fdatasync rate, measured in the same run on the same
 * file system.
 *
 * - raw: one file, a loop of "write 256 bytes at the end, fdatasync": once with blocking calls
 *   (the disk's best case), once through the Fs implementation the WAL uses (libuv's thread
 *   pool), and the blocking one again after the WAL rows. This is what one durable append costs
 *   without batching. Ratios are taken against the fastest raw loop of the run.
 * - wal, N appenders: N concurrent loops, each saving one 256-byte entry and awaiting it before
 *   the next. Group commit should turn N waiting savers into one write + one fdatasync.
 *
 * Reported per row: appends/s, p50/p99 save latency, fsyncs/s, appends per fsync, and
 * appends/s divided by the best raw fdatasync rate; and where each write+fdatasync round's time goes:
 * inside write(), inside fdatasync(), and the rest (encoding, sealing, resolving the savers and
 * running them to their next save: the event loop's share).
 *
 * Run: npx tsx bench/wal.ts   (BENCH_MS=<ms per row>, default 3000; WAL_BENCH_DIR=<dir> to
 * measure another disk, default os.tmpdir())
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Wal, nodeFs, type Entry, type Fs, type FsFile } from '../src/wal/index.js';

const RECORD_BYTES = 256;
const APPENDERS = [1, 16, 256];
const RUN_MS = Number(process.env['BENCH_MS'] ?? 3000);
const WARMUP_MS = Math.min(500, RUN_MS / 4);
const BASE_DIR = process.env['WAL_BENCH_DIR'] ?? os.tmpdir();

interface Row {
  name: string;
  appendsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  fsyncsPerSec: number;
  /** Per write+fdatasync round: ms inside write(), inside fdatasync(), and everything else
   * (encoding, sealing, resolving and re-running the savers: the event loop's share). */
  writeMs: number;
  fsyncMs: number;
  otherMs: number;
}

/** The real file system, timing each segment write and fdatasync as the WAL sees them. */
class TimedFs implements Fs {
  writeMs = 0;
  fsyncMs = 0;
  open = async (file: string, flags: 'r' | 'r+' | 'w+'): Promise<FsFile> => {
    const h = await nodeFs.open(file, flags);
    return {
      ...bindAll(h),
      write: async (buffers, position) => {
        const t = performance.now();
        const n = await h.write(buffers, position);
        this.writeMs += performance.now() - t;
        return n;
      },
      datasync: async () => {
        const t = performance.now();
        await h.datasync();
        this.fsyncMs += performance.now() - t;
      },
    };
  };
  readdir = nodeFs.readdir;
  rename = nodeFs.rename;
  unlink = nodeFs.unlink;
  mkdir = nodeFs.mkdir;
}

function bindAll(h: FsFile): FsFile {
  return {
    read: h.read.bind(h),
    write: h.write.bind(h),
    datasync: h.datasync.bind(h),
    sync: h.sync.bind(h),
    truncate: h.truncate.bind(h),
    stat: h.stat.bind(h),
    close: h.close.bind(h),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Latencies of the timed window only, in ms. Grows by doubling; bounded by the run length. */
class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

let rawRuns = 0;

/** The same loop with blocking syscalls: no thread-pool hop, so the disk's best case. */
function rawFdatasyncBlocking(dir: string, name: string): Row {
  const fd = openSync(path.join(dir, `raw-sync-${rawRuns++}.bin`), 'w+');
  const buf = Buffer.alloc(RECORD_BYTES, 0xab);
  let position = 0;
  const samples = new Samples();
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) {
    position += writeSync(fd, buf, 0, RECORD_BYTES, position);
    fdatasyncSync(fd);
  }
  const start = performance.now();
  const end = start + RUN_MS;
  let count = 0;
  for (let now = start; now < end; ) {
    position += writeSync(fd, buf, 0, RECORD_BYTES, position);
    fdatasyncSync(fd);
    const t = performance.now();
    samples.push(t - now);
    now = t;
    count++;
  }
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  const s = samples.sorted();
  return {
    name,
    appendsPerSec: count / seconds,
    p50Ms: percentile(s, 0.5),
    p99Ms: percentile(s, 0.99),
    fsyncsPerSec: count / seconds,
    writeMs: NaN,
    fsyncMs: NaN,
    otherMs: NaN,
  };
}

/** Through the Fs the WAL uses (libuv's thread pool). */
async function rawFdatasync(dir: string): Promise<Row> {
  const file = await nodeFs.open(path.join(dir, 'raw.bin'), 'w+');
  const buf = Buffer.alloc(RECORD_BYTES, 0xab);
  let position = 0;
  const samples = new Samples();
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) {
    await file.write([buf], position);
    position += RECORD_BYTES;
    await file.datasync();
  }
  const start = performance.now();
  const end = start + RUN_MS;
  let count = 0;
  for (let now = start; now < end; ) {
    await file.write([buf], position);
    position += RECORD_BYTES;
    await file.datasync();
    const t = performance.now();
    samples.push(t - now);
    now = t;
    count++;
  }
  const seconds = (performance.now() - start) / 1000;
  await file.close();
  const s = samples.sorted();
  return {
    name: 'raw, async (as the WAL)',
    appendsPerSec: count / seconds,
    p50Ms: percentile(s, 0.5),
    p99Ms: percentile(s, 0.99),
    fsyncsPerSec: count / seconds,
    writeMs: NaN,
    fsyncMs: NaN,
    otherMs: NaN,
  };
}

async function walRow(dir: string, appenders: number): Promise<Row> {
  const walDir = path.join(dir, `wal-${appenders}`);
  const fs = new TimedFs();
  const wal = await Wal.create(walDir, new Uint8Array([1, 2, 3]), { fs });
  const data = new Uint8Array(RECORD_BYTES).fill(0xcd);
  let next = 0;
  const samples = new Samples();
  let timing = false;
  let stop = false;
  let count = 0;

  const appender = async (): Promise<void> => {
    while (!stop) {
      const e: Entry = { index: ++next, term: 1, type: 0, data };
      const t0 = performance.now();
      await wal.save(undefined, [e]);
      if (timing) {
        samples.push(performance.now() - t0);
        count++;
      }
    }
  };
  const running = Array.from({ length: appenders }, appender);
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const before = wal.stats();
  const [writeMs0, fsyncMs0] = [fs.writeMs, fs.fsyncMs];
  timing = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, RUN_MS));
  timing = false;
  const seconds = (performance.now() - start) / 1000;
  const after = wal.stats();
  const rounds = after.writes - before.writes;
  const writeMs = (fs.writeMs - writeMs0) / rounds;
  const fsyncMs = (fs.fsyncMs - fsyncMs0) / rounds;
  stop = true;
  await Promise.all(running);
  await wal.close();
  await rm(walDir, { recursive: true, force: true });
  const s = samples.sorted();
  return {
    name: `wal, ${appenders} appender${appenders === 1 ? '' : 's'}`,
    appendsPerSec: count / seconds,
    p50Ms: percentile(s, 0.5),
    p99Ms: percentile(s, 0.99),
    fsyncsPerSec: (after.fsyncs - before.fsyncs) / seconds,
    writeMs,
    fsyncMs,
    otherMs: (seconds * 1000) / rounds - writeMs - fsyncMs,
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(BASE_DIR, 'tsetcd-wal-bench-'));
  try {
    console.log(`WAL bench: ${RECORD_BYTES}-byte records, ${RUN_MS} ms per row, in ${dir} (node ${process.version}, ${os.cpus().length} CPUs)`);
    // The disk may be shared: raw is measured before and after the WAL rows, and ratios are
    // taken against the fastest raw loop of the run (the hardest comparison).
    const rows = [rawFdatasyncBlocking(dir, 'raw, blocking calls'), await rawFdatasync(dir)];
    for (const n of APPENDERS) rows.push(await walRow(dir, n));
    rows.push(rawFdatasyncBlocking(dir, 'raw, blocking, again'));
    const raw = rows.filter((r) => r.name.startsWith('raw')).reduce((a, b) => (b.fsyncsPerSec > a.fsyncsPerSec ? b : a));

    const header = ['', 'appends/s', 'p50 ms', 'p99 ms', 'fsyncs/s', 'appends/fsync', 'x best raw', 'round: write ms', 'fdatasync ms', 'other ms'];
    const lines = rows.map((r) => [
      r.name,
      fmt(r.appendsPerSec),
      fmt(r.p50Ms, 3),
      fmt(r.p99Ms, 3),
      fmt(r.fsyncsPerSec),
      fmt(r.appendsPerSec / r.fsyncsPerSec, 1),
      fmt(r.appendsPerSec / raw.fsyncsPerSec, 2),
      Number.isNaN(r.writeMs) ? '' : fmt(r.writeMs, 3),
      Number.isNaN(r.fsyncMs) ? '' : fmt(r.fsyncMs, 3),
      Number.isNaN(r.otherMs) ? '' : fmt(r.otherMs, 3),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
    const row = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
    console.log(row(header));
    console.log(`|${widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`);
    for (const l of lines) console.log(row(l));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
