/** A real etcd 3.4 cluster of N processes on free loopback ports, for comparisons. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../cluster/local-cluster.js';

export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

export interface RealEtcdCluster {
  readonly endpoints: string[];
  stop(): Promise<void>;
}

export async function startRealEtcdCluster(size: number): Promise<RealEtcdCluster> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'tsetcd-real-etcd-'));
  const members = [];
  for (let i = 1; i <= size; i++) {
    members.push({ name: `e${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initial = members.map((m) => `${m.name}=${m.peer}`).join(',');
  const children: ChildProcess[] = members.map((m) =>
    spawn(
      ETCD_BIN,
      [
        `--name=${m.name}`,
        `--data-dir=${path.join(base, m.name)}`,
        `--listen-client-urls=${m.client}`,
        `--advertise-client-urls=${m.client}`,
        `--listen-peer-urls=${m.peer}`,
        `--initial-advertise-peer-urls=${m.peer}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${path.basename(base)}`,
        '--log-level=error',
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        process.kill(c.pid, 'SIGKILL');
        return exited;
      }),
    );
    await rm(base, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (const m of members) {
    for (;;) {
      try {
        const res = await fetch(`${m.client}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline || children.some((c) => c.exitCode !== null)) {
        await stop();
        throw new Error('the real etcd cluster did not become healthy');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { endpoints: members.map((m) => m.client), stop };
}
