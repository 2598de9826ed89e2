/**
 * A quick profile of the put path: a 3-member tsetcd cluster whose members run with the Node CPU
 * profiler, C clients putting unique keys (spread over the members) for S seconds. Prints
 * ops/s and, per member, the top functions by self time from the .cpuprofile it wrote.
 *
 *   npx tsx bench/profile-put.ts [--clients 100] [--seconds 10] [--dir /tmp/prof]
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../cluster/local-cluster.js';
import { EtcdClient } from '../src/client/index.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name + file:line), in ms, top n. */
export function topSelf(p: Profile, n: number): { fn: string; ms: number; pct: number }[] {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    if (!node) return;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url)}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), pct: Math.round((1000 * ms) / total) / 10 }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '100' }, seconds: { type: 'string', default: '10' }, dir: { type: 'string', default: '/tmp/tsetcd-prof' } } });
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const dir = values.dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const cluster = await LocalCluster.create({ size: 3, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  cluster.startAll();
  const client = new EtcdClient({ endpoints: cluster.endpoints });
  try {
    for (const [e] of cluster.endpoints.entries()) {
      for (let i = 0; i < 300; i++) {
        try {
          await client.put({ key: 'warm', value: 'x' }, { timeoutMs: 1000, endpoint: e });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    const value = Buffer.alloc(256, 1);
    let done = 0;
    const errors = new Map<string, number>();
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; Date.now() < end && i < 10_000_000; i++) {
          try {
            await client.put({ key: `p/${c}/${i}`, value });
            done++;
          } catch (e) {
            errors.set(String(e), (errors.get(String(e)) ?? 0) + 1);
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }),
    );
    console.log(`${clients} clients: ${Math.round(done / seconds)} puts/s`);
    for (const [e, n] of errors) console.log(`error x${n}: ${e.slice(0, 200)}`);
    for (const m of cluster.members) console.log(`${m.name}: exit ${m.process?.exitCode} ${m.process?.signalCode}; log ${m.logFile}`);
  } finally {
    client.close();
    await cluster.stopAll('SIGTERM');
  }
  await new Promise((r) => setTimeout(r, 1000));
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Profile;
    console.log(`\n${f}`);
    for (const t of topSelf(p, 25)) console.log(`${String(t.pct).padStart(5)}% ${String(t.ms).padStart(6)} ms  ${t.fn}`);
  }
}

// Run only as a program, not when imported for topSelf.
if (process.argv[1]?.endsWith('profile-put.ts') === true) void main();
