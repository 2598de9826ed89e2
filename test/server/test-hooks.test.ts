import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeerClient } from '../../src/server/peer-http.js';
import { boundTcpNetwork, parsePeerUrl } from '../../src/transport/index.js';
import { FailpointError, SyncRecordingFs, TestHooks } from '../../src/cli/test-hooks.js';
import { fragments } from '../../src/server/watch-stream.js';
import { nodeFs } from '../../src/wal/fs.js';
import { nopLogger } from '../../src/util/index.js';

describe('test hooks: configuration', () => {
  it('are off unless TSETCD_TEST_HOOKS=1, and refuse switches without it', () => {
    expect(TestHooks.fromEnv({}, nopLogger)).toBeUndefined();
    expect(() => TestHooks.fromEnv({ TSETCD_BUGS: 'ack-before-fsync' }, nopLogger)).toThrow(/need TSETCD_TEST_HOOKS=1/);
  });

  it('parse failpoints and bug switches, and name what is unknown', () => {
    const h = TestHooks.fromEnv({ TSETCD_TEST_HOOKS: '1', TSETCD_FAILPOINTS: 'beforeApply=sleep(5); afterWalSave=error', TSETCD_BUGS: 'skip-watch-event' }, nopLogger);
    expect(h?.armed).toBe(true);
    expect(h?.bug('skip-watch-event')).toBe(true);
    expect(h?.bug('ack-before-fsync')).toBe(false);
    expect(() => TestHooks.fromEnv({ TSETCD_TEST_HOOKS: '1', TSETCD_FAILPOINTS: 'nope=panic' }, nopLogger)).toThrow(/unknown failpoint "nope"/);
    expect(() => TestHooks.fromEnv({ TSETCD_TEST_HOOKS: '1', TSETCD_FAILPOINTS: 'beforeApply=explode' }, nopLogger)).toThrow(/bad failpoint action/);
    expect(() => TestHooks.fromEnv({ TSETCD_TEST_HOOKS: '1', TSETCD_BUGS: 'typo' }, nopLogger)).toThrow(/unknown bug switch "typo"/);
  });
});

describe('test hooks: failpoints and clock', () => {
  it('sleep delays, error throws, off disarms', async () => {
    const h = new TestHooks([], nopLogger);
    h.setFailpoint('beforeApply', 'sleep(60)');
    const t0 = Date.now();
    await h.hit('beforeApply');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    h.setFailpoint('beforeApply', 'error');
    await expect(h.hit('beforeApply')).rejects.toBeInstanceOf(FailpointError);
    await h.hit('afterApply'); // not armed: nothing happens
    h.setFailpoint('beforeApply', 'off');
    expect(h.armed).toBe(false);
    await h.hit('beforeApply');
  });

  it('the clock carries an offset, or a strobe that flips every period', () => {
    const h = new TestHooks([], nopLogger);
    h.setClock({ offsetMs: 10_000 });
    expect(h.nowMs() - Date.now()).toBeGreaterThanOrEqual(9_990);
    h.setClock({ strobeMs: 5_000, periodMs: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 20_000 && seen.size < 2; i++) seen.add(Math.round((h.nowMs() - Date.now()) / 1000) * 1000);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 5000]);
  });
});

describe('test hooks: the fs shim', () => {
  it('records the size of each file after every sync, and renames; records nothing when syncs are skipped', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tsetcd-shim-'));
    try {
      const record = path.join(dir, 'record.log');
      const fs = new SyncRecordingFs(nodeFs, record, false);
      const f = await fs.open(path.join(dir, 'a'), 'w+');
      await f.write([Buffer.from('hello')], 0);
      await f.datasync();
      await f.write([Buffer.from(' world')], 5);
      await f.close();
      await fs.rename(path.join(dir, 'a'), path.join(dir, 'b'));
      expect(await readFile(record, 'utf8')).toBe(`5 ${path.join(dir, 'a')}\nrename ${path.join(dir, 'a')} ${path.join(dir, 'b')}\n`);

      const lying = new SyncRecordingFs(nodeFs, path.join(dir, 'lying.log'), true);
      const g = await lying.open(path.join(dir, 'c'), 'w+');
      await g.write([Buffer.from('x')], 0);
      await g.datasync();
      await g.close();
      await expect(readFile(path.join(dir, 'lying.log'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('watch fragments', () => {
  it('splits events into runs under the size limit, never empty, keeping order', () => {
    const ev = (n: number): { type: 0; kv: { key: Uint8Array; value: Uint8Array; createRevision: number; modRevision: number; version: number; lease: bigint } } => ({
      type: 0,
      kv: { key: Buffer.from(`k${n}`), value: Buffer.alloc(100), createRevision: n, modRevision: n, version: 1, lease: 0n },
    });
    const events = Array.from({ length: 10 }, (_, i) => ev(i));
    const parts = fragments(events, 300);
    expect(parts.flat()).toEqual(events);
    expect(parts.every((p) => p.length >= 1 && p.length <= 2)).toBe(true);
    expect(fragments([ev(1)], 10)).toEqual([[ev(1)]]);
  });
});

describe('test hooks: peer source address', () => {
  it('raft connections and forwarded requests leave from the given loopback address', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`http ${req.socket.remoteAddress ?? ''}`);
      res.end('{"ttls":[7]}');
    });
    server.on('connection', (s) => seen.push(`tcp ${s.remoteAddress ?? ''}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const socket = await boundTcpNetwork('127.0.0.7').connect(parsePeerUrl(`http://127.0.0.1:${port}`), 2000, new AbortController().signal);
      socket.destroy();
      const client = new PeerClient('127.0.0.8');
      const r = await client.request(`http://127.0.0.1:${port}`, { kind: 'keepalive', ids: [1n] }, 2000);
      client.close();
      expect(r).toEqual({ ok: true, answer: { ttls: [7] } });
      expect(seen).toEqual(['tcp 127.0.0.7', 'tcp 127.0.0.8', 'http 127.0.0.8']);
    } finally {
      server.close();
    }
  });
});
