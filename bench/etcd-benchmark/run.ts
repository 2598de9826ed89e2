/**
 * One bench:compare row driven by etcd's own load generator (tools/benchmark, built from
 * Debian's packages by build.sh) instead of tsetcd-bench. The rows' flags are etcd's benchmark
 * flags already (tsetcd-bench copies its CLI), so the row runs as written, with `--precise`;
 * its text summary ("Requests/sec:", "50% in 0.0012 secs.", "Error distribution:") is parsed
 * here, and the members' CPU is read from /proc around the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidCpuSeconds } from '../common/proc.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Builds the tool if needed (a minute at most from Debian's packages) and returns its path. */
export function etcdBenchmarkBinary(): string {
  const r = spawnSync('bash', [path.join(HERE, 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
  const bin = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || bin === '') throw new Error(`bench/etcd-benchmark/build.sh failed (exit ${String(r.status)})`);
  return bin;
}

export interface EtcdBenchmarkResult {
  readonly opsPerSec: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly errors: number;
  /** Sum over the members, % of one core over the run. */
  readonly serverCpu: number;
}

/** The figures of etcd benchmark's summary; throws when there is none. */
export function parseSummary(out: string): Omit<EtcdBenchmarkResult, 'serverCpu'> {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  if (rps === undefined) throw new Error(`etcd benchmark printed no summary: ${out.trim().split('\n').slice(-3).join(' | ')}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p.replace('.', '\\.')}% in ([\\d.]+) secs`, 'm').exec(out);
    return m?.[1] === undefined ? NaN : Number(m[1]) * 1000;
  };
  const errorBlock = /Error distribution:\n((?:\s+\[\d+\].*\n?)*)/.exec(out)?.[1] ?? '';
  const errors = [...errorBlock.matchAll(/\[(\d+)\]/g)].reduce((a, m) => a + Number(m[1]), 0);
  return { opsPerSec: Number(rps), p50ms: pct('50'), p99ms: pct('99'), errors };
}

/** `track` is told the child (and undefined once it exited), so the caller can stop it by PID on its own exit. */
export async function runEtcdBenchmarkRow(
  bin: string,
  args: readonly string[],
  endpoints: readonly string[],
  pids: readonly number[],
  timeoutMs: number,
  track: (child: ChildProcess | undefined) => void = () => undefined,
): Promise<EtcdBenchmarkResult> {
  const cpu0 = pids.map(pidCpuSeconds);
  const t0 = performance.now();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, [`--endpoints=${endpoints.join(',')}`, '--precise', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-200_000)));
    child.stderr.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-200_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      track(undefined);
      if (code !== 0) reject(new Error(`etcd benchmark exited ${String(code)}: ${text.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve(text);
    });
  });
  const wall = (performance.now() - t0) / 1000;
  const serverCpu = pids.reduce((a, pid, i) => a + (100 * (pidCpuSeconds(pid) - (cpu0[i] ?? NaN))) / wall, 0);
  return { ...parseSummary(out), serverCpu };
}
