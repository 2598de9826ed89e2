/**
 * The file-system seam. The WAL and the Snapshotter touch the disk only through `Fs`, so tests can
 * hand in a wrapper that tears writes, fails fsync with EIO or counts calls, and the simulation
 * can hand in a crashable in-memory disk.
 *
 * The real implementation uses node:fs's callback API on raw descriptors rather than FileHandle:
 * it is the thinnest path to libuv's thread pool, and the commit path runs it once per fsync.
 */
import nodeFsModule from 'node:fs';
import path from 'node:path';

export type OpenFlags =
  /** read only (also used to open a directory for fsync) */
  | 'r'
  /** read and write an existing file */
  | 'r+'
  /** create or truncate, read and write */
  | 'w+';

export interface FsFile {
  /** Reads up to `length` bytes at `position` into buffer[offset..]; resolves to the count read. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes the buffers in order at `position`; may write fewer bytes than given (callers loop). */
  write(buffers: readonly Uint8Array[], position: number): Promise<number>;
  /**
   * Whether every write is durable when it returns (opened with `dataSync`), so a datasync()
   * after it has nothing left to do. Absent (false) for file systems that ignore the option.
   */
  readonly writesDurable?: boolean;
  /** fdatasync: the data and the metadata needed to read it back (the size) are durable. */
  datasync(): Promise<void>;
  /** fsync: everything, including the inode's other metadata; also works on directories. */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * Make each write durable before it returns (O_DSYNC): one call to the thread pool where a
   * write and an fdatasync took two. The file's `writesDurable` says whether it was honoured.
   */
  readonly dataSync?: boolean;
}

export interface Fs {
  /**
   * Extending a file with truncate() costs neither space nor time here (a sparse file), so the
   * member's WAL preallocates its segments (WalOptions.preallocate). True for the real disk.
   */
  readonly sparseFiles?: boolean;
  open(file: string, flags: OpenFlags, options?: OpenOptions): Promise<FsFile>;
  readdir(dir: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Creates the directory and its missing parents; no error if it exists. */
  mkdir(dir: string): Promise<void>;
}

// Owner-only, like etcd: the WAL holds every write the cluster accepted.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

function done<T>(resolve: (v: T) => void, reject: (e: unknown) => void): (err: NodeJS.ErrnoException | null, v: T) => void {
  return (err, v) => (err ? reject(err) : resolve(v));
}

const OPEN_FLAGS: Record<OpenFlags, number> = {
  r: nodeFsModule.constants.O_RDONLY,
  'r+': nodeFsModule.constants.O_RDWR,
  'w+': nodeFsModule.constants.O_RDWR | nodeFsModule.constants.O_CREAT | nodeFsModule.constants.O_TRUNC,
};

class NodeFile implements FsFile {
  private closed = false;
  constructor(
    private readonly fd: number,
    readonly writesDurable: boolean,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => nodeFsModule.read(this.fd, buffer, offset, length, position, done(resolve, reject)));
  }

  write(buffers: readonly Uint8Array[], position: number): Promise<number> {
    return new Promise((resolve, reject) =>
      nodeFsModule.writev(this.fd, buffers as Uint8Array[], position, (err, written) => (err ? reject(err) : resolve(written))),
    );
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => nodeFsModule.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => nodeFsModule.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  truncate(length: number): Promise<void> {
    return new Promise((resolve, reject) => nodeFsModule.ftruncate(this.fd, length, (err) => (err ? reject(err) : resolve())));
  }

  stat(): Promise<{ size: number }> {
    return new Promise((resolve, reject) =>
      nodeFsModule.fstat(this.fd, (err, st) => (err ? reject(err) : resolve({ size: st.size }))),
    );
  }

  close(): Promise<void> {
    // Closing twice would close whatever descriptor the number was reused for.
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => nodeFsModule.close(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}

/** The real disk. */
export const nodeFs: Fs = {
  sparseFiles: true,
  open(file, flags, options) {
    const dataSync = options?.dataSync === true;
    const numeric = OPEN_FLAGS[flags] | (dataSync ? nodeFsModule.constants.O_DSYNC : 0);
    return new Promise((resolve, reject) =>
      nodeFsModule.open(file, numeric, FILE_MODE, (err, fd) => (err ? reject(err) : resolve(new NodeFile(fd, dataSync)))),
    );
  },
  readdir(dir) {
    return new Promise((resolve, reject) => nodeFsModule.readdir(dir, done(resolve, reject)));
  },
  rename(from, to) {
    return new Promise((resolve, reject) => nodeFsModule.rename(from, to, (err) => (err ? reject(err) : resolve())));
  },
  unlink(file) {
    return new Promise((resolve, reject) => nodeFsModule.unlink(file, (err) => (err ? reject(err) : resolve())));
  },
  async mkdir(dir) {
    await new Promise<void>((resolve, reject) =>
      nodeFsModule.mkdir(dir, { recursive: true, mode: DIR_MODE }, (err) => (err ? reject(err) : resolve())),
    );
  },
};

/**
 * Makes a directory's entries (a create, rename or unlink in it) durable. Without it a renamed
 * segment or snapshot can vanish in a power loss even though its data was fsynced.
 */
export async function syncDir(fs: Fs, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes every byte of `buffers` at `position`, looping over short writes (a full disk, a signal,
 * or an injected torn write all surface as short counts). Bounded: each round writes at least one
 * byte or throws.
 */
export async function writeFully(file: FsFile, buffers: readonly Uint8Array[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.byteLength;
  let rest: readonly Uint8Array[] = buffers;
  let written = 0;
  while (written < total) {
    const n = await file.write(rest, position + written);
    if (!(n > 0)) throw new Error(`write made no progress at ${position + written} (${written}/${total} bytes)`);
    written += n;
    if (written < total) rest = dropPrefix(rest, n);
  }
  return total;
}

function dropPrefix(buffers: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = bytes;
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

/** Reads a whole file into one buffer (segments and snapshots are read once, front to back). */
export async function readWholeFile(fs: Fs, file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    // Bounded by the size: each round reads at least one byte or stops.
    while (got < size) {
      const n = await handle.read(buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

/** Unlinks `file` if it exists. */
export async function unlinkIfExists(fs: Fs, file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function join(dir: string, name: string): string {
  return path.join(dir, name);
}
