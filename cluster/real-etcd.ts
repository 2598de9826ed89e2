/**
 * A real etcd cluster of N processes on free loopback ports, for comparisons: the tests that
 * check tsetcd answers as etcd does, and the benchmark that runs them side by side. Every
 * process is stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './local-cluster.js';

export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

export interface RealEtcdOptions {
  readonly bin?: string;
  /** Where data dirs (and logs) go; a temporary dir, removed by stop(), when absent. */
  readonly baseDir?: string;
  /** Extra flags for every member (e.g. --heartbeat-interval). */
  readonly flags?: readonly string[];
  /** Write each member's output to <baseDir>/<name>.log (else it is kept for error messages). */
  readonly logToFiles?: boolean;
  /** Wait until every member reports healthy (default true). */
  readonly waitHealthy?: boolean;
}

export interface RealEtcdCluster {
  readonly endpoints: string[];
  readonly members: { readonly name: string; readonly clientUrl: string; readonly pid: number }[];
  /** SIGKILL by default (tests); SIGTERM first, then SIGKILL after 5 s, for a clean stop. */
  stop(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

export async function startRealEtcdCluster(size: number, opts: RealEtcdOptions = {}): Promise<RealEtcdCluster> {
  const ownDir = opts.baseDir === undefined;
  const base = opts.baseDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tsetcd-real-etcd-')));
  await mkdir(base, { recursive: true });
  const specs = [];
  for (let i = 1; i <= size; i++) {
    specs.push({ name: `e${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initial = specs.map((m) => `${m.name}=${m.peer}`).join(',');
  let output = '';
  const logs: WriteStream[] = [];
  const children: ChildProcess[] = specs.map((m) => {
    const child = spawn(
      opts.bin ?? ETCD_BIN,
      [
        `--name=${m.name}`,
        `--data-dir=${path.join(base, `${m.name}.etcd`)}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${path.basename(base)}`,
        ...(opts.flags ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (opts.logToFiles) {
      const log = createWriteStream(path.join(base, `${m.name}.log`), { flags: 'a' });
      logs.push(log);
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
    } else {
      const keep = (d: Buffer): void => {
        output = (output + d.toString('utf8')).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    }
    return child;
  });

  const stopOne = async (c: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    process.kill(c.pid, signal);
    const escalate = signal === 'SIGTERM' ? setTimeout(() => c.pid !== undefined && c.exitCode === null && process.kill(c.pid, 'SIGKILL'), 5000) : undefined;
    await exited;
    if (escalate) clearTimeout(escalate);
  };
  const stop = async (signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> => {
    await Promise.all(children.map((c) => stopOne(c, signal)));
    for (const l of logs) l.end();
    if (ownDir) await rm(base, { recursive: true, force: true });
  };

  if (opts.waitHealthy ?? true) {
    const deadline = Date.now() + 30_000;
    for (const m of specs) {
      for (;;) {
        try {
          const res = await fetch(`${m.client}/health`);
          if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
          await stop();
          throw new Error(`the real etcd cluster did not become healthy${output ? `:\n${output}` : ''}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return {
    endpoints: specs.map((m) => m.client),
    members: specs.map((m, i) => ({ name: m.name, clientUrl: m.client, pid: children[i]?.pid ?? -1 })),
    stop,
  };
}
