/**
 * Shared by the WAL tests: temp directories, entry builders, and FaultyFs, a wrapper over the
 * real file system that injects the failures a disk can produce (EIO on fsync, torn writes) and
 * counts calls.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Entry, Fs, FsFile, OpenFlags } from '../../src/wal/index.js';
import { nodeFs } from '../../src/wal/index.js';

const dirs: string[] = [];

/** A fresh directory under os.tmpdir(), removed after the current test. */
export async function tempDir(prefix = 'tsetcd-wal-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

export function entry(index: number, term: number, text = `e${index}`, type = 0): Entry {
  return { index, term, type, data: new TextEncoder().encode(text) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** Entries as [index, term, text] for readable comparisons. */
export function describeEntries(list: readonly Entry[]): [number, number, string][] {
  return list.map((e) => [e.index, e.term, new TextDecoder().decode(e.data)]);
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
}

export async function lastSegment(dir: string): Promise<string> {
  const files = await segmentFiles(dir);
  const last = files[files.length - 1];
  if (last === undefined) throw new Error(`no segments in ${dir}`);
  return path.join(dir, last);
}

export async function flipByte(file: string, offset: number): Promise<void> {
  const buf = await readFile(file);
  if (offset >= buf.byteLength) throw new Error(`offset ${offset} beyond ${file} (${buf.byteLength} bytes)`);
  buf[offset] = (buf[offset] as number) ^ 0x5a;
  await writeFile(file, buf);
}

export const metadata = new TextEncoder().encode('node=1 cluster=42');

export class Eio extends Error {
  readonly code = 'EIO';
  constructor(what: string) {
    super(`EIO: i/o error, ${what}`);
  }
}

/**
 * The real file system with hooks. Each hook sees the file path and may throw (or, for writes,
 * shorten the write) to simulate a fault.
 */
export class FaultyFs implements Fs {
  datasyncs = 0;
  writes = 0;
  /** Called before each datasync; throw to fail it. */
  beforeDatasync: ((file: string, n: number) => void | Promise<void>) | undefined;
  /**
   * Called before each write with the total byte count; return a smaller count to write only a
   * prefix and then fail with EIO (a torn write), or undefined to write everything.
   */
  tearWrite: ((file: string, bytes: number, n: number) => number | undefined) | undefined;

  constructor(private readonly inner: Fs = nodeFs) {}

  async open(file: string, flags: OpenFlags): Promise<FsFile> {
    const handle = await this.inner.open(file, flags);
    return {
      read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
      write: async (buffers, position) => {
        const n = ++this.writes;
        const total = buffers.reduce((s, b) => s + b.byteLength, 0);
        const keep = this.tearWrite?.(file, total, n);
        if (keep === undefined) return handle.write(buffers, position);
        const joined = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
        if (keep > 0) await handle.write([joined.subarray(0, keep)], position);
        throw new Eio(`write ${file}`);
      },
      datasync: async () => {
        const n = ++this.datasyncs;
        await this.beforeDatasync?.(file, n);
        return handle.datasync();
      },
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      stat: () => handle.stat(),
      close: () => handle.close(),
    };
  }

  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  unlink(file: string): Promise<void> {
    return this.inner.unlink(file);
  }
  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }
}
