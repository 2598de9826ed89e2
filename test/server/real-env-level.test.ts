/**
 * The real environment's LevelDB writes mvcc's batches through classic-level's native batch
 * (writeRaw, src/mvcc/db-batch.ts): the same effects as the public batch(), and on a closed
 * database the same rejection, never a crash.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeBatch, type BatchOp } from '../../src/mvcc/db-batch.js';
import type { MvccDb } from '../../src/mvcc/index.js';
import { levelDatabases } from '../../src/server/real-env.js';

const b = (s: string): Buffer => Buffer.from(s);
const dirs: string[] = [];

async function openDb(): Promise<{ db: MvccDb; dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsetcd-level-'));
  dirs.push(dir);
  return { db: await levelDatabases.open(path.join(dir, 'db')), dir };
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('the real environment database', () => {
  it('offers writeRaw, which mvcc uses', async () => {
    const { db } = await openDb();
    expect(typeof (db as { writeRaw?: unknown }).writeRaw).toBe('function');
    await db.close();
  });

  it('writes puts and deletes in one batch, readable as bytes and after a reopen', async () => {
    const { db, dir } = await openDb();
    await writeBatch(db, [
      { type: 'put', key: b('a'), value: b('1') },
      { type: 'put', key: b('b'), value: Buffer.from([0, 255, 10]) },
      { type: 'put', key: b('c'), value: b('3') },
    ]);
    await writeBatch(db, [
      { type: 'del', key: b('a') },
      { type: 'put', key: b('c'), value: b('33') },
    ]);
    await writeBatch(db, []);
    const read = async (d: MvccDb): Promise<[string, string][]> =>
      (await d.iterator<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' }).all()).map(([k, v]) => [k.toString(), v.toString('hex')]);
    const expected = [
      ['b', '00ff0a'],
      ['c', b('33').toString('hex')],
    ];
    expect(await read(db)).toEqual(expected);
    await db.close();
    const again = await levelDatabases.open(path.join(dir, 'db'));
    expect(await read(again)).toEqual(expected);
    await again.close();
  });

  it('rejects a batch on a closed database, as batch() does', async () => {
    const { db } = await openDb();
    await db.close();
    const ops: BatchOp[] = [{ type: 'put', key: b('a'), value: b('1') }];
    await expect(writeBatch(db, ops)).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
  });
});
