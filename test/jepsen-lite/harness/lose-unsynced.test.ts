import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cutToLastSync } from '../../../jepsen-lite/db.js';

describe('cutToLastSync (loseUnsyncedWrites)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('cuts files to their last fsynced size, follows renames, removes unsynced files, skips dirs', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'jl-lose-'));
    dirs.push(root);
    const member = path.join(root, 'member');
    const wal = path.join(member, 'wal');
    const snap = path.join(member, 'snap');
    await mkdir(path.join(snap, 'tmpdir'), { recursive: true });
    await mkdir(wal, { recursive: true });
    await writeFile(path.join(wal, '0.wal'), 'A'.repeat(100));
    await writeFile(path.join(wal, '1.wal'), 'B'.repeat(50));
    await writeFile(path.join(wal, '2.wal.tmp'), 'C'.repeat(10));
    await writeFile(path.join(snap, '1.snap'), 'S'.repeat(30));
    await writeFile(path.join(member, 'other'), 'untouched');
    // 1.wal was written as 0.tmp, synced at 20 bytes, renamed, then grew unsynced. A relative path
    // resolves against the member's cwd (root). A torn last line is ignored.
    const record = [
      `40 ${path.join(wal, '0.wal')}`,
      `80 ${path.join(wal, '0.wal')}`,
      `20 member/wal/0.tmp`,
      `rename ${path.join(wal, '0.tmp')} ${path.join(wal, '1.wal')}`,
      `4096 ${wal}`,
      `30 ${path.join(snap, '1.snap')}`,
      `12`,
    ].join('\n');
    await writeFile(path.join(member, 'test-fsync.log'), record);
    const report = await cutToLastSync(member, root);
    expect(report.truncated).toEqual({ 'wal/0.wal': [100, 80], 'wal/1.wal': [50, 20] });
    expect(report.removed).toEqual(['wal/2.wal.tmp']);
    expect((await readFile(path.join(wal, '0.wal'))).length).toBe(80);
    expect((await readFile(path.join(wal, '1.wal'))).length).toBe(20);
    expect((await readFile(path.join(snap, '1.snap'))).length).toBe(30);
    expect(await readdir(wal)).toEqual(['0.wal', '1.wal']);
    expect(await readdir(snap)).toEqual(['1.snap', 'tmpdir']);
    expect(await readFile(path.join(member, 'other'), 'utf8')).toBe('untouched');
  });

  it('counts fsyncs recorded under a file\'s old name after a rename (the handle stays open)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'jl-lose-'));
    dirs.push(root);
    const wal = path.join(root, 'member', 'wal');
    await mkdir(wal, { recursive: true });
    await writeFile(path.join(wal, '0.wal'), 'W'.repeat(3000));
    const tmp = path.join(wal, '0.wal.tmp');
    const record = [`112 ${tmp}`, `rename ${tmp} ${path.join(wal, '0.wal')}`, `2000 ${tmp}`, `2864 ${tmp}`, ''].join('\n');
    await writeFile(path.join(root, 'member', 'test-fsync.log'), record);
    const report = await cutToLastSync(path.join(root, 'member'), root);
    expect(report.truncated).toEqual({ 'wal/0.wal': [3000, 2864] });
  });

  it('with no record file every wal/snap file is removed (nothing was ever durable)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'jl-lose-'));
    dirs.push(root);
    await mkdir(path.join(root, 'member', 'wal'), { recursive: true });
    await writeFile(path.join(root, 'member', 'wal', '0.wal'), 'x');
    const report = await cutToLastSync(path.join(root, 'member'), root);
    expect(report.removed).toEqual(['wal/0.wal']);
  });
});
