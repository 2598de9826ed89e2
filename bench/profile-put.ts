/**
 * A quick profile of the put path: a tsetcd cluster (3 members by default) whose members run with the Node CPU
 * profiler, C clients putting unique keys (spread over the members) for S seconds. Prints
 * ops/s, each member's CPU during the load by thread (and per put), and the top functions by self
 * time from the .cpuprofiles the members wrote, start-up left out.
 *
 *   npx tsx bench/profile-put.ts [--size 3] [--leader-only] [--clients 100] [--seconds 10] [--dir /tmp/prof]
 *
 * `--generator etcd-benchmark` drives the members with etcd's own tool instead (Go clientv3,
 * `--clients C --conns C/10`, 20 k puts of 256 bytes per run, `--runs` runs back to back), which
 * exercises the server the way Go's gRPC client does: many streams on few connections.
 */
import { mkdir, rm } from 'node:fs/promises';
import { LocalCluster } from '../cluster/local-cluster.js';
import { EtcdClient } from '../src/client/index.js';
import { describeProfiles } from './common/cpu-profile.js';
import { threadCpuByName } from './common/proc.js';
import { etcdBenchmarkBinary, runEtcdBenchmarkRow } from './etcd-benchmark/run.js';
import { buildTsetcd } from './common/systems.js';
import { benchArgs } from './common/args.js';

async function main(): Promise<void> {
  const values = benchArgs(import.meta.url, { size: { type: 'string', default: '3' }, 'leader-only': { type: 'boolean', default: false }, clients: { type: 'string', default: '100' }, seconds: { type: 'string', default: '10' }, dir: { type: 'string', default: '/tmp/tsetcd-prof' }, generator: { type: 'string', default: 'tsetcd' }, runs: { type: 'string', default: '1' }, workload: { type: 'string', default: 'put' }, total: { type: 'string', default: '20000' } });
  if (values.generator !== 'tsetcd' && values.generator !== 'etcd-benchmark') throw new Error(`--generator must be tsetcd or etcd-benchmark, not ${values.generator}`);
  const bin = values.generator === 'etcd-benchmark' ? etcdBenchmarkBinary() : undefined;
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const dir = values.dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  buildTsetcd();
  const cluster = await LocalCluster.create({ size: Number(values.size), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`], built: true });
  const startedAt = Date.now();
  cluster.startAll();
  const client = new EtcdClient({ endpoints: cluster.endpoints });
  let skipMs = 0;
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
    // --leader-only: every put goes to the leader, as tsetcd-bench's one connection does in the comparison.
    let target: number | undefined;
    if (values['leader-only']) {
      for (const [e] of cluster.endpoints.entries()) {
        const st = await client.status(e);
        if (st.leader === st.header.memberId) target = e;
      }
      if (target === undefined) throw new Error('no member says it leads');
    }
    const value = Buffer.alloc(256, 1);
    let done = 0;
    const errors = new Map<string, number>();
    const pids = cluster.members.map((m) => m.process?.pid ?? 0);
    const threadsBefore = pids.map(threadCpuByName);
    const loadStart = Date.now();
    skipMs = loadStart - startedAt;
    if (bin === undefined) {
      const end = loadStart + seconds * 1000;
      await Promise.all(
        Array.from({ length: clients }, async (_, c) => {
          for (let i = 0; Date.now() < end && i < 10_000_000; i++) {
            try {
              await client.put({ key: `p/${c}/${i}`, value }, target === undefined ? {} : { endpoint: target });
              done++;
            } catch (e) {
              errors.set(String(e), (errors.get(String(e)) ?? 0) + 1);
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        }),
      );
    } else {
      const endpoints = target === undefined ? cluster.endpoints : [cluster.endpoints[target] ?? ''];
      // --workload range-s: serializable ranges of one key instead (the read path without raft).
      const work = values.workload === 'range-s' ? ['range', 'warm', '--consistency=s'] : ['put', '--key-size=8', '--val-size=256', '--sequential-keys', '--key-space-size=100000'];
      const args = [`--clients=${clients}`, `--conns=${Math.max(1, Math.round(clients / 10))}`, ...work, `--total=${values.total}`];
      for (let r = 0; r < Number(values.runs); r++) {
        const res = await runEtcdBenchmarkRow(bin, args, endpoints, pids, 600_000);
        done += Number(values.total);
        console.log(`run ${r + 1}: ${Math.round(res.opsPerSec)} puts/s, p50 ${res.p50ms.toFixed(2)} ms, p99 ${res.p99ms.toFixed(2)} ms, server CPU ${res.serverCpu.toFixed(0)}%, errors ${res.errors}`);
      }
    }
    const elapsed = (Date.now() - loadStart) / 1000;
    console.log(`${clients} clients: ${Math.round(done / elapsed)} puts/s over ${elapsed.toFixed(1)} s`);
    // Where each member's CPU went during the load, by thread: main (JS), libuv pool (fsync, LevelDB
    // reads and writes), LevelDB's compaction thread, V8's GC and compiler helpers.
    pids.forEach((pid, i) => {
      const before = threadsBefore[i] ?? new Map<string, number>();
      const after = threadCpuByName(pid);
      const parts = [...after].map(([name, cpu]) => [name, cpu - (before.get(name) ?? 0)] as const).filter(([, d]) => d > 0.005);
      const total = parts.reduce((a, [, d]) => a + d, 0);
      console.log(
        `${cluster.members[i]?.name}: ${((100 * total) / elapsed).toFixed(0)}% CPU, ${done > 0 ? ((1000 * total) / done).toFixed(2) : '-'} ms per put; ` +
          parts
            .sort((a, b) => b[1] - a[1])
            .map(([name, d]) => `${name} ${((100 * d) / elapsed).toFixed(0)}%`)
            .join(', '),
      );
    });
    for (const [e, n] of errors) console.log(`error x${n}: ${e.slice(0, 200)}`);
    for (const m of cluster.members) console.log(`${m.name}: exit ${m.process?.exitCode} ${m.process?.signalCode}; log ${m.logFile}`);
  } finally {
    client.close();
    await cluster.stopAll('SIGTERM');
  }
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`\nTop self time after start-up (${skipMs} ms left out):`);
  console.log(await describeProfiles(dir, 25, skipMs));
}

void main();
