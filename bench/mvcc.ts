/**
 * mvcc benchmark on a real LevelDB (`level`) in a temporary directory: load N keys (default
 * 1,000,000) in batched WriteTxns, then measure puts/s (one WriteTxn per put, and 100 puts per
 * WriteTxn), single-key ranges/s at random keys, memory per key, the time to reopen the store
 * (rebuilding the key index), a compaction over the whole keyspace, and the time to reopen the
 * compacted store. Prints a table.
 *
 *   npx tsx bench/mvcc.ts                      # 1,000,000 keys
 *   node --expose-gc --import tsx bench/mvcc.ts   # with gc() for steadier memory figures
 *   MVCC_BENCH_KEYS=100000 npx tsx bench/mvcc.ts
 *
 * A program that prints figures, never a test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Level } from 'level';
import { MvccStore } from '../src/mvcc/index.js';
import { Prng } from '../src/util/prng.js';

const KEYS = Number(process.env['MVCC_BENCH_KEYS'] ?? 1_000_000);
const VALUE = Buffer.alloc(100, 0x61);
const LOAD_BATCH = 1000;
const SINGLE_PUTS = 20_000;
const BATCHED_PUTS = 200_000;
const RANGES = 100_000;

const gc = (globalThis as { gc?: () => void }).gc;
// As the server passes it: compaction yields to the event loop between batches.
const options = { yieldToEventLoop: (): Promise<void> => new Promise((resolve) => setImmediate(resolve)) };

/** Distinct keys in a scattered order: i -> i * golden ratio (mod 2^32) is a bijection. */
function keyOf(i: number): Buffer {
  return Buffer.from(`/registry/pods/default/pod-${(Math.imul(i, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0')}`);
}

function memory(): { heap: number; rss: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

const rows: [string, string][] = [];
function row(name: string, value: string): void {
  rows.push([name, value]);
  console.error(`  ${name}: ${value}`);
}
const perSecond = (n: number, ms: number): string => `${Math.round((n * 1000) / ms).toLocaleString('en-US')} /s`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A restart is a new process: time MvccStore.open in a child (this script again, with
 * MVCC_BENCH_REOPEN set), so the parent's heap and warm caches do not skew it.
 */
function reopenInChild(dir: string): { ms: number; keys: number; records: number; heapPerKey: number } {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, MVCC_BENCH_REOPEN: dir },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`reopen child failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as { ms: number; keys: number; records: number; heapPerKey: number };
}

async function reopenChild(dir: string): Promise<void> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const before = memory();
  const t = performance.now();
  const store = await MvccStore.open(db, options);
  const ms = performance.now() - t;
  const { keys, revisions } = store.stats();
  const heapPerKey = (memory().heap - before.heap) / keys;
  await store.close();
  await db.close();
  console.log(JSON.stringify({ ms, keys, records: revisions, heapPerKey }));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsetcd-bench-mvcc-'));
  console.error(`mvcc bench: ${KEYS.toLocaleString('en-US')} keys in ${dir}${gc === undefined ? ' (no --expose-gc: memory figures are rough)' : ''}`);
  try {
    let db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    let store = await MvccStore.open(db, options);
    let ci = 0;

    const before = memory();
    let t = performance.now();
    for (let i = 0; i < KEYS; i += LOAD_BATCH) {
      const w = store.write();
      for (let j = i; j < Math.min(i + LOAD_BATCH, KEYS); j++) await w.put(keyOf(j), VALUE);
      await w.end(++ci);
    }
    const loadMs = performance.now() - t;
    row(`load ${KEYS.toLocaleString('en-US')} keys (${LOAD_BATCH} puts per WriteTxn)`, `${(loadMs / 1000).toFixed(1)} s, ${perSecond(KEYS, loadMs)}`);
    const loaded = memory();
    row('memory per key: heap', `${((loaded.heap - before.heap) / KEYS).toFixed(0)} B (heap ${mib(loaded.heap)})`);
    row('memory per key: RSS', `${((loaded.rss - before.rss) / KEYS).toFixed(0)} B (RSS ${mib(loaded.rss)}, includes LevelDB's caches)`);

    const p = new Prng(1);
    t = performance.now();
    for (let i = 0; i < SINGLE_PUTS; i++) await store.put({ key: keyOf(p.int(KEYS)), value: VALUE }, ++ci);
    let ms = performance.now() - t;
    row('puts, one WriteTxn per put', perSecond(SINGLE_PUTS, ms));

    t = performance.now();
    for (let i = 0; i < BATCHED_PUTS; i += 100) {
      const w = store.write();
      for (let j = 0; j < 100; j++) await w.put(keyOf(p.int(KEYS)), VALUE);
      await w.end(++ci);
    }
    ms = performance.now() - t;
    row('puts, 100 per WriteTxn', perSecond(BATCHED_PUTS, ms));

    t = performance.now();
    for (let i = 0; i < RANGES; i++) {
      const r = await store.range(keyOf(p.int(KEYS)));
      if (r.kvs.length !== 1) throw new Error('missing key');
    }
    ms = performance.now() - t;
    row('single-key ranges, 1 in flight', perSecond(RANGES, ms));

    t = performance.now();
    const inFlight = 64;
    let issued = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (issued < RANGES) {
          issued++;
          const r = await store.range(keyOf(p.int(KEYS)));
          if (r.kvs.length !== 1) throw new Error('missing key');
        }
      }),
    );
    ms = performance.now() - t;
    row(`single-key ranges, ${inFlight} in flight`, perSecond(RANGES, ms));

    const revisions = store.stats().revisions;
    await store.close();
    await db.close();
    const restart = reopenInChild(dir);
    row(`restart: reopen, rebuilding the index (${restart.keys.toLocaleString('en-US')} keys, ${revisions.toLocaleString('en-US')} records)`, `${(restart.ms / 1000).toFixed(2)} s`);
    row('heap per key after reopen', `${restart.heapPerKey.toFixed(0)} B`);
    db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    store = await MvccStore.open(db, options);

    t = performance.now();
    let maxGapMs = 0;
    const handle = await store.compact(store.currentRev, ++ci);
    // While it runs, measure how long reads wait (the event loop must stay responsive).
    let running = true;
    const done = handle.done.then(() => (running = false));
    while (running) {
      const s = performance.now();
      await store.range(keyOf(p.int(KEYS)));
      maxGapMs = Math.max(maxGapMs, performance.now() - s);
    }
    await done;
    ms = performance.now() - t;
    row(`compact at the current revision (${(revisions - store.stats().revisions).toLocaleString('en-US')} records deleted)`, `${(ms / 1000).toFixed(2)} s, slowest read meanwhile ${maxGapMs.toFixed(1)} ms`);

    // Again, now that the history is compacted (one record per key): the steady state of a
    // cluster that compacts regularly.
    await store.close();
    await db.close();
    const again = reopenInChild(dir);
    row(`restart after compaction (${again.records.toLocaleString('en-US')} records)`, `${(again.ms / 1000).toFixed(2)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const width = Math.max(...rows.map(([n]) => n.length));
  console.log(`\nmvcc on LevelDB, ${KEYS.toLocaleString('en-US')} keys, 100-byte values, node ${process.version}\n`);
  console.log(`| ${'measure'.padEnd(width)} | result |`);
  console.log(`| ${'-'.repeat(width)} | ------ |`);
  for (const [n, v] of rows) console.log(`| ${n.padEnd(width)} | ${v} |`);
}

const reopenDir = process.env['MVCC_BENCH_REOPEN'];
if (reopenDir !== undefined) await reopenChild(reopenDir);
else await main();
