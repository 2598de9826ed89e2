/**
 * Starting the systems the benchmarks compare — a tsetcd cluster (cluster/local-cluster.ts) or a
 * real etcd cluster (cluster/real-etcd.ts) — on free 127.0.0.1 ports, finding their leader, and
 * stopping them by PID. Every member's PID is exposed so callers can read its CPU from /proc and
 * kill it as a last resort on exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../../cluster/local-cluster.js';
import { ETCD_BIN, startRealEtcdCluster } from '../../cluster/real-etcd.js';
import { ClientError, EtcdClient } from '../../src/client/index.js';

export type SystemName = 'tsetcd' | 'etcd';

/** The timing both systems run with in comparisons, as etcd's flags. */
export const HEARTBEAT_MS = 100;
export const ELECTION_MS = 1000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const errText = (e: unknown): string => (e instanceof ClientError ? `${e.statusName}: ${e.message}` : e instanceof Error ? e.message : String(e));

export interface SystemMember {
  readonly name: string;
  readonly endpoint: string;
  readonly pid: number;
}

export interface RunningSystem {
  readonly name: SystemName;
  readonly members: SystemMember[];
  /** SIGTERM, then (etcd) SIGKILL after 5 s; only the processes this system started. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly size: number;
  /** Data dirs and logs go here. */
  readonly dir: string;
  /** Extra flags for every member, e.g. the heartbeat and election timing. */
  readonly flags?: readonly string[];
  /** tsetcd only: arguments for node itself (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** etcd only: the binary. */
  readonly etcdBin?: string;
}

const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let built = false;

/**
 * `npm run build`, once per benchmark process: the members a benchmark starts run the built
 * code with plain node, as `npm start` does (LocalCluster's `built`), so what is measured is
 * what ships, built from the sources the benchmark itself runs from.
 */
export function buildTsetcd(): void {
  if (built) return;
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`})`);
  built = true;
}

export async function startSystem(name: SystemName, o: StartOptions): Promise<RunningSystem> {
  if (name === 'tsetcd') {
    buildTsetcd();
    const c = await LocalCluster.create({ size: o.size, baseDir: o.dir, flags: o.flags ?? [], output: 'file', nodeArgs: o.nodeArgs ?? [], built: true });
    c.startAll();
    return {
      name,
      members: c.members.map((m) => ({ name: m.name, endpoint: m.clientUrl, pid: m.process?.pid ?? -1 })),
      stop: () => c.stopAll('SIGTERM'),
    };
  }
  const e = await startRealEtcdCluster(o.size, { bin: o.etcdBin ?? ETCD_BIN, baseDir: o.dir, logToFiles: true, waitHealthy: false, flags: o.flags ?? [] });
  return { name, members: e.members.map((m) => ({ name: m.name, endpoint: m.clientUrl, pid: m.pid })), stop: () => e.stop('SIGTERM') };
}

/** SIGKILL every member still running, by PID; for process 'exit' handlers (synchronous). */
export function killMembersNow(members: readonly SystemMember[]): void {
  for (const m of members) {
    try {
      if (m.pid > 0) process.kill(m.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Waits until every member agrees on a leader and the cluster takes a put; returns the members leader first. */
export async function leaderFirst<M extends { readonly endpoint: string }>(members: readonly M[], timeoutMs: number): Promise<M[]> {
  const c = new EtcdClient({ endpoints: members.map((m) => m.endpoint), timeoutMs: 2000 });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        const st = await Promise.all(members.map((_, i) => c.status(i)));
        const leader = st[0]?.leader ?? 0n;
        const li = st.findIndex((s) => s.header.memberId === leader);
        if (leader !== 0n && li >= 0 && st.every((s) => s.leader === leader)) {
          await c.put({ key: 'bench/ready', value: 'x' }, { endpoint: li });
          return [members[li] as M, ...members.filter((_, i) => i !== li)];
        }
        last = `no agreed leader: ${st.map((s) => s.leader).join(',')}`;
      } catch (e) {
        last = errText(e);
      }
      await sleep(200);
    }
  } finally {
    c.close();
  }
  throw new Error(`no leader within ${timeoutMs} ms: ${last}`);
}

/** Waits until the member at `endpoint` takes a put (it has a leader and applies). */
export async function waitWritable(endpoint: string, timeoutMs: number): Promise<void> {
  const c = new EtcdClient({ endpoints: [endpoint], timeoutMs: 2000 });
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    while (Date.now() < deadline) {
      try {
        await c.put({ key: 'bench/ready', value: 'x' });
        return;
      } catch (e) {
        last = errText(e);
        await sleep(200);
      }
    }
  } finally {
    c.close();
  }
  throw new Error(`${endpoint} took no put within ${timeoutMs} ms: ${last}`);
}

/** `etcd --version`'s version line, or undefined; the child is killed after 5 s. */
export async function readEtcdVersion(bin: string = ETCD_BIN): Promise<string | undefined> {
  const child = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', () => undefined);
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5000)]);
  if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  return /etcd Version: (\S+)/.exec(out)?.[1];
}
