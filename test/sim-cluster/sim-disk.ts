/**
 * A member's simulated disk: the WAL's and snapshots' files (src/wal/fs.ts's Fs), in memory.
 *
 * Each file keeps what is durable apart from the writes since its last fsync. A process crash
 * (kill) loses nothing that was written (the page cache survives it); a power loss keeps the
 * durable bytes plus a random prefix of the unsynced writes, the last one possibly torn, which
 * is what a disk may do. File creation, rename and unlink are durable at once (a journaling file
 * system's metadata), so only data is at risk.
 *
 * The disk outlives the member's incarnations; each incarnation gets an Fs view bound to it
 * (`fsFor`), whose operations complete after a simulated latency, and never once it is dead.
 */
import path from 'node:path';
import type { Prng } from '../../src/util/prng.js';
import type { Fs, FsFile, OpenFlags, OpenOptions } from '../../src/wal/fs.js';
import type { Owner, Scheduler } from './scheduler.js';

class Bytes {
  private buf = new Uint8Array(256);
  length = 0;

  write(data: Uint8Array, at: number): void {
    const end = at + data.byteLength;
    if (end > this.buf.byteLength) {
      const next = new Uint8Array(Math.max(end, this.buf.byteLength * 2));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    if (at > this.length) this.buf.fill(0, this.length, at);
    this.buf.set(data, at);
    this.length = Math.max(this.length, end);
  }

  truncate(length: number): void {
    if (length > this.length) this.write(new Uint8Array(length - this.length), this.length);
    this.length = length;
  }

  read(into: Uint8Array, offset: number, length: number, at: number): number {
    const n = Math.max(0, Math.min(length, this.length - at));
    into.set(this.buf.subarray(at, at + n), offset);
    return n;
  }

  copy(): Bytes {
    const b = new Bytes();
    b.write(this.buf.subarray(0, this.length), 0);
    return b;
  }
}

type Change = { readonly kind: 'write'; readonly at: number; readonly data: Uint8Array } | { readonly kind: 'truncate'; readonly length: number };

class Inode {
  current = new Bytes();
  durable = new Bytes();
  /** Changes to `current` since the last sync, in order. */
  pending: Change[] = [];

  apply(c: Change, to: Bytes): void {
    if (c.kind === 'write') to.write(c.data, c.at);
    else to.truncate(c.length);
  }

  change(c: Change, durableNow: boolean): void {
    this.apply(c, this.current);
    this.pending.push(c);
    if (durableNow) this.sync();
  }

  sync(): void {
    for (const c of this.pending) this.apply(c, this.durable);
    this.pending = [];
  }

  /** Power loss: the durable bytes and a prefix of the pending changes (the last maybe torn). */
  powerLoss(prng: Prng): void {
    const keep = prng.int(this.pending.length + 1);
    for (let i = 0; i < keep; i++) {
      const c = this.pending[i] as Change;
      if (i === keep - 1 && c.kind === 'write' && prng.chance(0.5)) {
        this.apply({ kind: 'write', at: c.at, data: c.data.subarray(0, prng.int(c.data.byteLength + 1)) }, this.durable);
      } else {
        this.apply(c, this.durable);
      }
    }
    this.pending = [];
    this.current = this.durable.copy();
  }
}

function errno(code: string, what: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${what}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export interface DiskLatency {
  /** Milliseconds a read, write or metadata call takes. */
  readonly opMs: number;
  /** Milliseconds an fsync takes, at least (plus up to as much again, drawn per call). */
  readonly syncMs: number;
}

export class SimDisk {
  private readonly files = new Map<string, Inode>();
  private readonly dirs = new Set<string>(['/']);

  constructor(
    private readonly sched: Scheduler,
    private readonly prng: Prng,
    private readonly latency: DiskLatency,
    /** The ack-before-fsync bug: fsync and O_DSYNC make nothing durable. */
    private readonly ignoreSync = false,
  ) {}

  /** The process died: unsynced data stays (kill), or only some of it (power loss). */
  crash(kind: 'kill' | 'power'): void {
    if (kind === 'kill') return;
    for (const inode of this.files.values()) inode.powerLoss(this.prng);
  }

  /** The Fs one incarnation sees. */
  fsFor(owner: Owner): Fs {
    const done = <T>(ms: number, fn: () => T): Promise<T> =>
      new Promise<T>((resolve, reject) =>
        this.sched.at(ms, owner, () => {
          try {
            resolve(fn());
          } catch (e) {
            reject(e as Error);
          }
        }),
      );
    const op = this.latency.opMs;
    return {
      open: (file, flags, options) => done(op, () => this.open(path.resolve(file), flags, options, done)),
      readdir: (dir) => done(op, () => this.readdir(path.resolve(dir))),
      rename: (from, to) => done(op, () => this.rename(path.resolve(from), path.resolve(to))),
      unlink: (file) =>
        done(op, () => {
          if (!this.files.delete(path.resolve(file))) throw errno('ENOENT', `unlink ${file}`);
        }),
      mkdir: (dir) => done(op, () => this.mkdir(path.resolve(dir))),
    };
  }

  private open(file: string, flags: OpenFlags, options: OpenOptions | undefined, done: <T>(ms: number, fn: () => T) => Promise<T>): FsFile {
    if (this.dirs.has(file)) {
      if (flags !== 'r') throw errno('EISDIR', `open ${file}`);
      return this.handle(new Inode(), false, done);
    }
    if (!this.dirs.has(path.dirname(file))) throw errno('ENOENT', `open ${file}`);
    let inode = this.files.get(file);
    if (flags === 'w+') {
      inode = new Inode();
      this.files.set(file, inode);
    } else if (inode === undefined) {
      throw errno('ENOENT', `open ${file}`);
    }
    return this.handle(inode, options?.dataSync === true && !this.ignoreSync, done);
  }

  private handle(inode: Inode, writesDurable: boolean, done: <T>(ms: number, fn: () => T) => Promise<T>): FsFile {
    const { opMs, syncMs } = this.latency;
    const syncLatency = (): number => syncMs + this.prng.float() * syncMs;
    const sync = (): Promise<void> =>
      done(syncLatency(), () => {
        if (!this.ignoreSync) inode.sync();
      });
    return {
      writesDurable,
      read: (buffer, offset, length, position) => done(opMs, () => inode.current.read(buffer, offset, length, position)),
      write: (buffers, position) => {
        // Copied now: the caller may reuse its buffers once the call returns.
        const data = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
        return done(writesDurable ? syncLatency() : opMs, () => {
          inode.change({ kind: 'write', at: position, data: new Uint8Array(data) }, writesDurable);
          return data.byteLength;
        });
      },
      datasync: sync,
      sync,
      truncate: (length) => done(opMs, () => inode.change({ kind: 'truncate', length }, false)),
      stat: () => done(opMs, () => ({ size: inode.current.length })),
      close: () => done(0, () => undefined),
    };
  }

  private readdir(dir: string): string[] {
    if (!this.dirs.has(dir)) throw errno('ENOENT', `scandir ${dir}`);
    const out = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) if (p !== dir && path.dirname(p) === dir) out.add(path.basename(p));
    return [...out].sort();
  }

  private rename(from: string, to: string): void {
    const inode = this.files.get(from);
    if (inode === undefined) throw errno('ENOENT', `rename ${from}`);
    if (!this.dirs.has(path.dirname(to))) throw errno('ENOENT', `rename ${to}`);
    this.files.delete(from);
    this.files.set(to, inode);
  }

  private mkdir(dir: string): void {
    for (let d = dir; !this.dirs.has(d); d = path.dirname(d)) {
      if (this.files.has(d)) throw errno('EEXIST', `mkdir ${d}`);
      this.dirs.add(d);
    }
  }
}
