import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCommand, resolveSettings, toConfig } from '../../src/cli/tsetcd-flags.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof toConfig> {
  const cmd = buildCommand().exitOverride();
  cmd.parse(['node', 'tsetcd', ...argv]);
  return toConfig(resolveSettings(cmd, env));
}

describe('tsetcd flags', () => {
  it("defaults are etcd's: one member 'default' on 2379/2380, data in default.tsetcd", () => {
    const c = parse([]);
    expect(c.name).toBe('default');
    expect(c.dataDir).toBe('default.tsetcd');
    expect(c.listenClientUrls).toEqual(['http://localhost:2379']);
    expect(c.listenPeerUrls).toEqual(['http://localhost:2380']);
    expect([...c.initialCluster]).toEqual([['default', ['http://localhost:2380']]]);
    expect(c.initialClusterState).toBe('new');
    expect(c.heartbeatMs).toBe(100);
    expect(c.electionMs).toBe(1000);
    expect(c.maxRequestBytes).toBe(1.5 * 1024 * 1024);
    expect(c.maxTxnOps).toBe(128);
  });

  it('a flag beats the environment, which beats the config file, which beats the default', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tsetcd-flags-'));
    dirs.push(dir);
    const file = path.join(dir, 'conf.yml');
    await writeFile(file, 'name: from-file\nsnapshot-count: 7\nmax-txn-ops: 9\nelection-timeout: 2000\n');
    const c = parse(['--config-file', file, '--name', 'from-flag'], { TSETCD_NAME: 'from-env', TSETCD_SNAPSHOT_COUNT: '11' });
    expect(c.name).toBe('from-flag');
    expect(c.snapshotCount).toBe(11);
    expect(c.maxTxnOps).toBe(9);
    expect(c.electionMs).toBe(2000);
    expect(c.heartbeatMs).toBe(100);
    expect(c.dataDir).toBe('from-flag.tsetcd');
  });

  it('parses --initial-cluster and derives it from the name when absent', () => {
    const c = parse(['--name', 'a', '--initial-advertise-peer-urls', 'http://127.0.0.1:9001', '--initial-cluster', 'a=http://127.0.0.1:9001,b=http://127.0.0.1:9002,b=http://127.0.0.1:9003']);
    expect([...c.initialCluster]).toEqual([
      ['a', ['http://127.0.0.1:9001']],
      ['b', ['http://127.0.0.1:9002', 'http://127.0.0.1:9003']],
    ]);
    expect([...parse(['--name', 'solo', '--initial-advertise-peer-urls', 'http://127.0.0.1:9009']).initialCluster]).toEqual([['solo', ['http://127.0.0.1:9009']]]);
  });

  it('refuses bad values with a clear message', () => {
    expect(() => parse(['--initial-cluster-state', 'maybe'])).toThrow(/--initial-cluster-state/);
    expect(() => parse(['--snapshot-count', '-3'])).toThrow(/--snapshot-count: must be a positive integer/);
    expect(() => parse(['--listen-client-urls', 'ftp://x:1'])).toThrow(/URL scheme/);
    expect(() => parse(['--initial-cluster', 'nourl'])).toThrow(/want name=url/);
    expect(() => parse(['--election-timeout', '300'])).toThrow(/at least as 5 times/);
  });
});
