/**
 * What each request costs a member in the kernel: write and read system calls, context switches
 * (all threads) and CPU, per request, tsetcd beside a real etcd on the same machine, the systems
 * alternating. The load is etcd's own benchmark tool (bench/etcd-benchmark), endpoints leader
 * first. Two nodes on one machine talk over loopback, where a write wakes its reader: the count
 * of system calls and wake-ups per request is what decides latency at low load and CPU at high.
 *
 *   npx tsx bench/syscalls.ts [--size 3] [--rounds 2] [--rows put-1,put-100]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leaderFirst, startSystem, type SystemName } from './common/systems.js';
import { pidCpuSeconds } from './common/proc.js';
import { etcdBenchmarkBinary, runEtcdBenchmarkRow } from './etcd-benchmark/run.js';
import { benchArgs } from './common/args.js';

const ROWS: Record<string, { readonly args: readonly string[]; readonly total: number }> = {
  'put-1': { args: ['--clients=1', '--conns=1', 'put', '--key-size=8', '--val-size=256', '--sequential-keys', '--key-space-size=100000'], total: 2000 },
  'put-100': { args: ['--clients=100', '--conns=10', 'put', '--key-size=8', '--val-size=256', '--sequential-keys', '--key-space-size=100000'], total: 20000 },
  'range-s-1': { args: ['--clients=1', '--conns=1', 'range', 'foo', '--consistency=s'], total: 5000 },
};

interface Counters {
  readonly syscw: number;
  readonly syscr: number;
  readonly ctxsw: number;
  readonly cpu: number;
}

/** /proc/<pid>/io's syscall counts (the whole process) and every thread's context switches. */
function counters(pid: number): Counters {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
  let ctxsw = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of st.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) ctxsw += Number(m[1]);
    } catch {
      // the thread ended
    }
  }
  return { syscw: field('syscw'), syscr: field('syscr'), ctxsw, cpu: pidCpuSeconds(pid) };
}

async function main(): Promise<void> {
  const values = benchArgs(import.meta.url, { size: { type: 'string', default: '3' }, rounds: { type: 'string', default: '2' }, rows: { type: 'string', default: 'put-1,put-100' }, systems: { type: 'string', default: 'tsetcd,etcd' } });
  const bin = etcdBenchmarkBinary();
  const rows = values.rows.split(',');
  for (const r of rows) if (ROWS[r] === undefined) throw new Error(`unknown row ${r}; known: ${Object.keys(ROWS).join(', ')}`);
  console.log('| system | round | row | ops/s | p50 ms | member | writes/req | reads/req | ctx switches/req | CPU ms/req |');
  console.log('| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const system of values.systems.split(',') as SystemName[]) {
      const dir = await mkdtemp(path.join(os.tmpdir(), `tsetcd-syscalls-${system}-`));
      const running = await startSystem(system, { size: Number(values.size), dir });
      try {
        const members = await leaderFirst(running.members, 90_000);
        for (const row of rows) {
          const spec = ROWS[row]!;
          const before = members.map((m) => counters(m.pid));
          const res = await runEtcdBenchmarkRow(bin, [...spec.args, `--total=${spec.total}`], members.map((m) => m.endpoint), members.map((m) => m.pid), 600_000);
          members.forEach((m, i) => {
            const a = counters(m.pid);
            const b = before[i]!;
            const per = (x: number): string => (x / spec.total).toFixed(2);
            const role = i === 0 ? 'leader' : 'follower';
            console.log(`| ${system} | ${round} | ${row} | ${Math.round(res.opsPerSec)} | ${res.p50ms.toFixed(2)} | ${m.name} (${role}) | ${per(a.syscw - b.syscw)} | ${per(a.syscr - b.syscr)} | ${per(a.ctxsw - b.ctxsw)} | ${((1000 * (a.cpu - b.cpu)) / spec.total).toFixed(3)} |`);
          });
        }
      } finally {
        await running.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

await main();
