/**
 * A quick profile of watch fan-out: one tsetcd member under the Node CPU profiler, W watchers
 * (prefix watchers, ten per prefix) over S streams, then puts at R/s for T seconds. Prints the
 * member's top functions by self time (bench/common/cpu-profile.ts).
 *
 *   npx tsx bench/profile-watch.ts [--watchers 100000] [--streams 1000] [--rate 1000] [--seconds 10]
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { LocalCluster } from '../cluster/local-cluster.js';
import { EtcdClient, type WatchStream } from '../src/client/index.js';
import { describeProfiles } from './common/cpu-profile.js';
import { buildTsetcd } from './common/systems.js';
import { benchArgs } from './common/args.js';

async function main(): Promise<void> {
  const values = benchArgs(import.meta.url, {
    watchers: { type: 'string', default: '100000' },
    streams: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    dir: { type: 'string', default: '/tmp/tsetcd-prof-watch' },
    'trace-gc': { type: 'boolean', default: false },
  });
  const [watchers, streams, rate, seconds] = [values.watchers, values.streams, values.rate, values.seconds].map(Number) as [number, number, number, number];
  const dir = values.dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const traceGc = values['trace-gc'] === true;
  buildTsetcd();
  const cluster = await LocalCluster.create({ size: 1, nodeArgs: traceGc ? ['--trace-gc'] : ['--cpu-prof', `--cpu-prof-dir=${dir}`], built: true });
  cluster.startAll();
  const client = new EtcdClient({ endpoints: cluster.endpoints });
  const opened: WatchStream[] = [];
  let received = 0;
  try {
    for (let i = 0; i < 300; i++) {
      try {
        await client.put({ key: 'warm', value: 'x' }, { timeoutMs: 1000 });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const prefixes = Math.max(1, Math.floor(watchers / 10));
    for (let s = 0; s < streams; s++) {
      const ws = client.watch();
      opened.push(ws);
      void (async () => {
        for await (const r of ws) received += r.events.length;
      })().catch(() => {});
    }
    for (let i = 0; i < watchers; i++) {
      const ws = opened[i % streams] as WatchStream;
      const p = `w/${i % prefixes}/`;
      if (!ws.create({ key: p, rangeEnd: `w/${i % prefixes}0` })) await ws.drained();
    }
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    let sent = 0;
    const lat: number[] = [];
    const inflight = new Set<Promise<void>>();
    while (Date.now() - t0 < seconds * 1000) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate);
      while (sent < due) {
        const k = `w/${sent % prefixes}/x`;
        const start = performance.now();
        const p: Promise<void> = client
          .put({ key: k, value: 'v' })
          .then(() => void lat.push(performance.now() - start))
          .catch(() => {})
          .finally(() => inflight.delete(p));
        inflight.add(p);
        sent++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inflight);
    await new Promise((r) => setTimeout(r, 2000));
    lat.sort((a, b) => a - b);
    const q = (f: number): string => (lat[Math.floor(f * (lat.length - 1))] ?? 0).toFixed(2);
    console.log(`sent ${sent}, acked ${lat.length}, events received ${received}; put p50 ${q(0.5)} ms p99 ${q(0.99)} ms`);
  } finally {
    for (const ws of opened) ws.close();
    client.close();
    await cluster.stopAll('SIGTERM');
    if (traceGc) {
      const log = await readFile((cluster.members[0] as { logFile: string }).logFile, 'utf8');
      const pauses = [...log.matchAll(/\s(\d+) ms: (Mark-Compact|Scavenge)[^,]*, ([\d.]+) \/ [\d.]+ ms/g)].map((m) => ({ at: Number(m[1]), kind: m[2] as string, ms: Number(m[3]) }));
      const last = pauses.at(-1)?.at ?? 0;
      console.log('pauses over 20 ms (ms since member start: pause ms):', pauses.filter((p) => p.ms > 20).map((p) => `${p.at}:${p.kind[0]}${Math.round(p.ms)}`).join(' '), `(last trace at ${last})`);
      for (const kind of ['Scavenge', 'Mark-Compact']) {
        const ms = pauses.filter((p) => p.kind === kind).map((p) => p.ms).sort((a, b) => a - b);
        console.log(`${kind}: ${ms.length} pauses, total ${Math.round(ms.reduce((a, b) => a + b, 0))} ms, max ${ms.at(-1) ?? 0} ms, p90 ${ms[Math.floor(ms.length * 0.9)] ?? 0} ms`);
      }
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  console.log(await describeProfiles(dir, 30));
}

void main();
