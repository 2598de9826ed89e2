/**
 * One in-process member on the real environment (the disk, LevelDB, the wall clock): what only
 * the real files and the test entry point's hooks show. Watch, lease and lock behaviour in time
 * is tested on simulated time (test/sim-cluster/member-watch-lease.test.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../cluster/local-cluster.js';
import { DEFAULTS, type ServerConfig } from '../../src/server/config.js';
import { realEnv } from '../../src/server/real-env.js';
import { createMember, type V3Server } from '../../src/server/v3-server.js';
import { hookedMember, TestHooks } from '../../src/cli/test-hooks.js';
import { nopLogger } from '../../src/util/index.js';

const b = (s: string): Buffer => Buffer.from(s);

const started: { server: V3Server; dir: string }[] = [];

function newMember(cfg: ServerConfig, hooks?: TestHooks): V3Server {
  const wired = hooks ? hookedMember(hooks, path.join(cfg.dataDir, 'member')) : undefined;
  return createMember(cfg, realEnv(cfg.logger, wired?.env), wired?.strategies);
}

async function startMember(overrides: Partial<ServerConfig> = {}, hooks?: TestHooks): Promise<{ server: V3Server; dir: string; cfg: ServerConfig }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsetcd-member-'));
  const peer = `http://127.0.0.1:${await freePort()}`;
  const cfg: ServerConfig = {
    ...DEFAULTS,
    name: 'm1',
    dataDir: dir,
    listenClientUrls: [`http://127.0.0.1:${await freePort()}`],
    advertiseClientUrls: [],
    listenPeerUrls: [peer],
    initialAdvertisePeerUrls: [peer],
    initialCluster: new Map([['m1', [peer]]]),
    heartbeatMs: 20,
    electionMs: 200,
    logger: nopLogger,
    ...overrides,
  };
  const server = newMember(cfg, hooks);
  await server.start();
  started.push({ server, dir });
  for (let i = 0; i < 200 && !server.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(server.isLeader()).toBe(true);
  return { server, dir, cfg };
}

afterEach(async () => {
  for (const { server, dir } of started.splice(0)) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

describe('member: test hooks', () => {
  it('a failpoint that errors in apply stops the member, logged as fired', async () => {
    const hooks = new TestHooks([], nopLogger);
    const { server } = await startMember({}, hooks);
    hooks.setFailpoint('beforeApply', 'error');
    await expect(server.put({ key: b('x'), value: b('1') })).rejects.toMatchObject({ code: expect.stringMatching(/Timeout|Stopped/) });
    await server.whenStopped();
    expect(server.stopReason).toMatch(/failpoint beforeApply: injected error/);
  });
});

describe('member: a lost WAL', () => {
  it('refuses to start when the WAL has no segment but the database holds data; starts afresh when there is no database yet', async () => {
    const { server, cfg } = await startMember();
    await server.put({ key: b('k'), value: b('v') });
    await server.stop();
    const wal = path.join(cfg.dataDir, 'member', 'wal');
    for (const f of await readdir(wal)) await rm(path.join(wal, f));
    await expect(newMember(cfg).start()).rejects.toThrow(/holds no WAL segment but the member has a database/);
    // No database yet (a crash while the WAL was being created): a fresh start.
    await rm(path.join(cfg.dataDir, 'member', 'db'), { recursive: true });
    const again = newMember(cfg);
    await again.start();
    started.push({ server: again, dir: cfg.dataDir });
    for (let i = 0; i < 200 && !again.isLeader(); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await again.range({ key: b('k') })).kvs).toEqual([]);
  });
});
