/**
 * A member's simulated databases (env.ts Databases) on memory-level, by path.
 *
 * Like LevelDB after a process crash, a database keeps every write it acknowledged. Each open
 * gets a fresh memory-level holding a copy of what the path held, with a prewrite hook that
 * refuses writes once the opening incarnation is dead: a crashed member's writes still in
 * flight can never land in the database its next incarnation opens.
 */
import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import type { MvccDb } from '../../src/mvcc/index.js';
import type { Databases } from '../../src/server/env.js';
import type { Owner } from './scheduler.js';

const BUFFERS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

interface Stored {
  readonly db: MemoryLevel<Buffer, Buffer>;
  /** Bytes of keys and values put (an estimate of the size on disk; deletes don't shrink it). */
  bytes: number;
}

export class SimDatabases {
  private readonly byPath = new Map<string, Stored>();

  databasesFor(owner: Owner): Databases {
    return {
      open: async (p) => this.open(path.resolve(p), owner),
      exists: async (p) => this.byPath.has(path.resolve(p)),
      remove: async (p) => {
        this.byPath.delete(path.resolve(p));
      },
      replace: async (from, to) => {
        const s = this.byPath.get(path.resolve(from));
        if (s === undefined) throw new Error(`replace: no database at ${from}`);
        this.byPath.delete(path.resolve(from));
        this.byPath.set(path.resolve(to), s);
      },
      size: async (p) => this.byPath.get(path.resolve(p))?.bytes ?? 0,
      list: async (dir) => [...this.byPath.keys()].filter((p) => path.dirname(p) === path.resolve(dir)).sort(),
    };
  }

  private async open(p: string, owner: Owner): Promise<MvccDb> {
    const db = new MemoryLevel<Buffer, Buffer>(BUFFERS);
    await db.open();
    const old = this.byPath.get(p);
    const stored: Stored = { db, bytes: old?.bytes ?? 0 };
    if (old !== undefined) {
      const reopened = old.db.status !== 'open';
      if (reopened) await old.db.open();
      const entries = await old.db.iterator().all();
      if (reopened) await old.db.close();
      await db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
    }
    db.hooks.prewrite.add((op) => {
      if (!owner.alive) throw new Error(`${owner.name} is dead`);
      if (op.type === 'put') stored.bytes += (op.key as Buffer).byteLength + (op.value as Buffer).byteLength;
    });
    this.byPath.set(p, stored);
    return db as unknown as MvccDb;
  }
}
