/**
 * One short real run of `tsetcd-bench put` and `range` (the CLI, as a child process) against a
 * 1-member tsetcd started with cluster/local-cluster.ts and stopped by its PID.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../cluster/local-cluster.js';
import { waitWritable } from '../../bench/common/systems.js';
import { EtcdClient } from '../../src/client/index.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bench/tsetcd-bench/cli.ts');

function bench(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`tsetcd-bench ${args.join(' ')} took more than ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tsetcd-bench against a 1-member tsetcd', () => {
  let cluster: LocalCluster;
  let endpoint: string;
  let pid: number;

  beforeAll(async () => {
    cluster = await LocalCluster.create({ size: 1 });
    cluster.startAll();
    const m = cluster.members[0];
    if (!m?.process?.pid) throw new Error('tsetcd did not start');
    endpoint = m.clientUrl;
    pid = m.process.pid;
    await waitWritable(endpoint, 20_000);
  }, 30_000);

  afterAll(async () => {
    await cluster?.stopAll('SIGKILL');
    if (cluster) await rm(cluster.baseDir, { recursive: true, force: true });
  });

  it('runs put and prints etcd\'s summary with the generator and server CPU', async () => {
    const r = await bench([`--endpoints=${endpoint}`, '--clients=8', '--conns=2', '--workers=2', `--server-pids=${pid}`, 'put', '--total=300', '--key-space-size=100', '--sequential-keys', '--val-size=16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\nSummary:\n {2}Total:\t\d+\.\d{4} secs\.\n/);
    expect(r.stdout).toContain('\nResponse time histogram:\n');
    expect(r.stdout).toMatch(/\n {2}99% in \d+\.\d{4} secs\.\n/);
    expect(r.stdout).not.toContain('Error distribution');
    expect(r.stdout).toMatch(/Generator: 2 worker thread\(s\), 2 connection\(s\), 8 client\(s\)/);
    expect(r.stdout).toMatch(new RegExp(`Server pid ${pid}: CPU \\d+% of one core`));
  }, 25_000);

  it('runs linearizable and serializable range with --json', async () => {
    for (const consistency of ['l', 's']) {
      const r = await bench([`--endpoints=${endpoint}`, '--clients=4', '--workers=2', '--json', 'range', 'key', 'kez', `--consistency=${consistency}`, '--total=200', '--limit=10']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { command: string; sections: { count: number; errorCount: number; requestsPerSec: number }[]; generator: { workers: number } };
      expect(j.command).toBe('range');
      expect(j.sections[0]).toMatchObject({ count: 200, errorCount: 0 });
      expect(j.sections[0]?.requestsPerSec).toBeGreaterThan(0);
      expect(j.generator.workers).toBe(2);
    }
  }, 25_000);

  it('runs lease-keepalive to the leader, a serializable stm, and watch', async () => {
    const lease = await bench([`--endpoints=${endpoint}`, '--target-leader', '--clients=4', '--json', 'lease-keepalive', '--total=200']);
    expect(lease.code, lease.stderr).toBe(0);
    const lj = JSON.parse(lease.stdout) as { sections: { count: number }[]; generator: { endpoints: string[] } };
    expect(lj.sections[0]?.count).toBe(200);
    expect(lj.generator.endpoints).toEqual([endpoint]);

    const stm = await bench([`--endpoints=${endpoint}`, '--clients=4', 'stm', '--keys=4', '--keys-per-txn=2', '--txn-wr-percent=100', '--isolation=s', '--total=50']);
    expect(stm.code, stm.stderr).toBe(0);
    expect(stm.stdout).toMatch(/Requests\/sec:/);
    expect(stm.stdout).toMatch(/STM retries: \d+/);

    const watch = await bench([`--endpoints=${endpoint}`, '--clients=2', 'watch', '--streams=2', '--watch-per-stream=10', '--watched-key-total=2', '--key-space-size=2', '--sequential-keys', '--put-total=20']);
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout).toMatch(/^Watch creation summary:\n\nSummary:\n/);
    expect(watch.stdout).toContain('Watch events received summary:\n\nSummary:\n');
    // 20 puts over 2 distinct keys, 10 watchers on each: 200 events. (Without --sequential-keys
    // both watched keys could be key 0, as in etcd's tool, and every watcher would see every put.)
    expect(watch.stdout).toContain('Watch events: 200 received of 200 expected');
  }, 28_000);

  it('runs stm under both lockers: transactions one at a time, so none is retried; the session leases are gone after', async () => {
    for (const locker of ['lock-rpc', 'lock-client']) {
      const stm = await bench([`--endpoints=${endpoint}`, '--clients=4', 'stm', `--stm-locker=${locker}`, '--keys=2', '--keys-per-txn=2', '--txn-wr-percent=100', '--isolation=ss', '--total=60']);
      expect(stm.code, stm.stderr).toBe(0);
      expect(stm.stdout).toMatch(/Requests\/sec:/);
      // Four clients writing the same two keys: without the mutex, ss conflicts and retries.
      expect(stm.stdout, locker).toMatch(/STM retries: 0\b/);
      const client = new EtcdClient({ endpoints: [endpoint] });
      try {
        expect((await client.range({ key: 'stmlock/', rangeEnd: 'stmlock0', countOnly: true })).count, locker).toBe(0);
      } finally {
        client.close();
      }
    }
  }, 40_000);
});
