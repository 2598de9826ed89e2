import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EntryType, type Entry } from '../../src/raft/index.js';
import { DiskRaftStorage } from '../../src/server/raft-storage.js';
import { Snapshotter } from '../../src/wal/index.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'tsetcd-rs-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const meta = new TextEncoder().encode('member-1');
const conf = { voters: [1n, 2n, 3n], learners: [] };
const ents = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ term, index: from + i, type: EntryType.Normal, data: new TextEncoder().encode(`e${from + i}`) }));

describe('DiskRaftStorage', () => {
  it('creates a fresh store, bootstraps, and reads everything back after reopening', async () => {
    const dir = await tmp();
    const a = await DiskRaftStorage.open(dir, meta);
    expect(a.fresh).toBe(true);
    await a.storage.bootstrap(conf);
    await a.storage.save({ hardState: { term: 2, vote: 1n, commit: 5 }, entries: ents(2, 6, 2) });
    await a.storage.close();

    const b = await DiskRaftStorage.open(dir, new Uint8Array(0));
    expect(b.fresh).toBe(false);
    expect(new TextDecoder().decode(b.metadata)).toBe('member-1');
    expect(b.storage.firstIndex()).toBe(2);
    expect(b.storage.lastIndex()).toBe(6);
    expect(b.storage.term(1)).toBe(1);
    expect(b.storage.initialState()).toEqual({ hardState: { term: 2, vote: 1n, commit: 5 }, confState: conf });
    expect(b.storage.entries(2, 7, Infinity).map((e) => new TextDecoder().decode(e.data))).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
    await b.storage.close();
  });

  it('a conflicting append replaces the suffix, durably', async () => {
    const dir = await tmp();
    const { storage } = await DiskRaftStorage.open(dir, meta);
    await storage.bootstrap(conf);
    await storage.save({ entries: ents(2, 6, 2) });
    await storage.save({ hardState: { term: 3, vote: 2n, commit: 3 }, entries: ents(4, 5, 3) });
    await storage.close();
    const b = await DiskRaftStorage.open(dir, meta);
    expect(b.storage.lastIndex()).toBe(5);
    expect([2, 3, 4, 5].map((i) => b.storage.term(i))).toEqual([2, 2, 3, 3]);
    await b.storage.close();
  });

  it('restarts from the newest snapshot and the entries after it, with released segments gone', async () => {
    const dir = await tmp();
    const { storage } = await DiskRaftStorage.open(dir, meta, { segmentBytes: 512 });
    await storage.bootstrap(conf);
    for (let i = 2; i <= 400; i += 20) await storage.save({ hardState: { term: 2, vote: 1n, commit: i + 19 }, entries: ents(i, i + 19, 2) });
    const segsBefore = (await readdir(path.join(dir, 'wal'))).length;
    await storage.createSnapshot(300, conf, new TextEncoder().encode('sm@300'));
    const segsAfter = (await readdir(path.join(dir, 'wal'))).length;
    expect(segsAfter).toBeLessThan(segsBefore);
    await storage.close();

    const b = await DiskRaftStorage.open(dir, meta, { segmentBytes: 512 });
    expect(b.storage.snapshot().metadata.index).toBe(300);
    expect(new TextDecoder().decode(b.storage.snapshot().data)).toBe('sm@300');
    expect(b.storage.firstIndex()).toBe(301);
    expect(b.storage.lastIndex()).toBe(401);
    await b.storage.close();
  });

  it('skips a snapshot file whose marker never reached the WAL (crash between the two writes)', async () => {
    const dir = await tmp();
    const { storage } = await DiskRaftStorage.open(dir, meta);
    await storage.bootstrap(conf);
    await storage.save({ hardState: { term: 2, vote: 1n, commit: 50 }, entries: ents(2, 60, 2) });
    await storage.createSnapshot(20, conf, new TextEncoder().encode('sm@20'));
    await storage.close();
    // A newer snapshot file appears on disk without its WAL marker.
    await new Snapshotter(path.join(dir, 'snap')).save({ index: 50, term: 2, configuration: conf, data: new TextEncoder().encode('sm@50') });

    const b = await DiskRaftStorage.open(dir, meta);
    expect(b.storage.snapshot().metadata.index).toBe(20);
    expect(b.storage.firstIndex()).toBe(21);
    expect(b.storage.lastIndex()).toBe(60);
    await b.storage.close();
  });
});
