/**
 * Raft snapshot files in `snap/`: `<term 16 hex>-<index 16 hex>.snap`, one per snapshot.
 *
 * File layout (little-endian):
 *
 *   0   'TSNP'            magic
 *   4   u32 version = 1
 *   8   u32 metaBytes
 *   12  u32 crc32c        over bytes [0, 12) and [16, 24), then meta, then data
 *   16  u64 dataBytes
 *   24  meta              msgpackr [index, term, configuration]
 *   24 + metaBytes  data
 *
 * The data is written and checksummed in place (no copy into a combined buffer): a snapshot is
 * the whole state machine and can be large. The index and term inside must match the file name,
 * so a file renamed by hand (or by a bug) is caught too.
 *
 * Saving is crash-safe: a temp file is written and fsynced, then renamed and the directory
 * fsynced, so a `.snap` file that exists is complete. Loading skips damaged files (renaming them
 * to `.broken` for an operator to look at) and falls back to the next newest.
 */
import { crc32c } from '@node-rs/crc32';
import { assert } from '../util/assert.js';
import { type Logger, nopLogger } from '../util/logger.js';
import { WalError } from './errors.js';
import { type Fs, join, nodeFs, readWholeFile, syncDir, unlinkIfExists, writeFully } from './fs.js';
import { packr } from './payload.js';
import type { SnapshotMarker } from './types.js';

export interface SnapshotFile<C = unknown> {
  readonly index: number;
  readonly term: number;
  /** The membership at `index`; opaque here, anything msgpackr encodes (bigints included). */
  readonly configuration: C;
  /** The state machine's serialized state at `index`. */
  readonly data: Uint8Array;
}

export interface SnapshotterOptions {
  readonly fs?: Fs;
  readonly logger?: Logger;
}

const MAGIC = 0x504e5354; // 'TSNP' read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 24;
const SNAP_SUFFIX = '.snap';
const TEMP_SUFFIX = '.tmp';
const BROKEN_SUFFIX = '.broken';
const NAME_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotFileName(m: SnapshotMarker): string {
  return `${m.term.toString(16).padStart(16, '0')}-${m.index.toString(16).padStart(16, '0')}${SNAP_SUFFIX}`;
}

function parseName(name: string): SnapshotMarker | undefined {
  const m = NAME_PATTERN.exec(name);
  if (m === null) return undefined;
  const term = Number.parseInt(m[1] as string, 16);
  const index = Number.parseInt(m[2] as string, 16);
  return Number.isSafeInteger(term) && Number.isSafeInteger(index) ? { index, term } : undefined;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checksum(header: Buffer, meta: Uint8Array, data: Uint8Array): number {
  let crc = crc32c(header.subarray(0, 12));
  crc = crc32c(header.subarray(16, 24), crc);
  crc = crc32c(meta, crc);
  return crc32c(data, crc);
}

/** Decodes and checks one snapshot file's bytes; throws SNAP_CORRUPT naming what is wrong. */
export function decodeSnapshotFile(buf: Buffer, name: string): SnapshotFile {
  const corrupt = (why: string): WalError => new WalError('SNAP_CORRUPT', `snap: ${name}: ${why}`);
  if (buf.byteLength < HEADER_BYTES) throw corrupt(`only ${buf.byteLength} bytes`);
  if (buf.readUInt32LE(0) !== MAGIC) throw corrupt('bad magic');
  const version = buf.readUInt32LE(4);
  if (version !== VERSION) throw corrupt(`unknown version ${version}`);
  const metaBytes = buf.readUInt32LE(8);
  const dataBytes = buf.readBigUInt64LE(16);
  if (BigInt(buf.byteLength) !== BigInt(HEADER_BYTES + metaBytes) + dataBytes) {
    throw corrupt(`size ${buf.byteLength} does not match the header (${metaBytes} + ${dataBytes} bytes)`);
  }
  const meta = buf.subarray(HEADER_BYTES, HEADER_BYTES + metaBytes);
  const data = buf.subarray(HEADER_BYTES + metaBytes);
  if (checksum(buf, meta, data) !== buf.readUInt32LE(12)) throw corrupt('crc mismatch');
  let decoded: unknown;
  try {
    decoded = packr.unpack(meta);
  } catch (err) {
    throw corrupt(`undecodable metadata: ${(err as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length !== 3) throw corrupt('metadata has the wrong shape');
  const [index, term, configuration] = decoded as unknown[];
  if (!isIndex(index) || !isIndex(term)) throw corrupt('index/term are not safe integers');
  const named = parseName(name);
  if (named !== undefined && (named.index !== index || named.term !== term)) {
    throw corrupt(`holds index ${index} term ${term}, which does not match its name`);
  }
  return { index, term, configuration, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export class Snapshotter {
  private readonly fs: Fs;
  private readonly logger: Logger;

  constructor(
    private readonly dir: string,
    opts: SnapshotterOptions = {},
  ) {
    this.fs = opts.fs ?? nodeFs;
    this.logger = opts.logger ?? nopLogger;
  }

  /** Writes `snap` durably; resolves once the file and its directory entry are on disk. */
  async save(snap: SnapshotFile): Promise<void> {
    assert(isIndex(snap.index) && isIndex(snap.term), 'snap: index/term must be safe integers');
    assert(snap.data instanceof Uint8Array, 'snap: data must be a Uint8Array');
    const meta = packr.pack([snap.index, snap.term, snap.configuration]);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(VERSION, 4);
    header.writeUInt32LE(meta.byteLength, 8);
    header.writeBigUInt64LE(BigInt(snap.data.byteLength), 16);
    header.writeUInt32LE(checksum(header, meta, snap.data), 12);

    await this.fs.mkdir(this.dir);
    const final = join(this.dir, snapshotFileName(snap));
    const temp = final + TEMP_SUFFIX;
    const file = await this.fs.open(temp, 'w+');
    try {
      await writeFully(file, [header, meta, snap.data], 0);
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await unlinkIfExists(this.fs, temp).catch(() => undefined);
      throw err;
    }
    await file.close();
    await this.fs.rename(temp, final);
    await syncDir(this.fs, this.dir);
  }

  /** The snapshots on disk (by name; not checked), newest first. */
  async list(): Promise<SnapshotMarker[]> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const found: SnapshotMarker[] = [];
    for (const name of names) {
      // A temp file is a save that never reached its rename.
      if (name.endsWith(SNAP_SUFFIX + TEMP_SUFFIX)) await unlinkIfExists(this.fs, join(this.dir, name));
      const m = parseName(name);
      if (m !== undefined) found.push(m);
    }
    return found.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /**
   * The newest snapshot that loads cleanly and that `accept` takes (e.g. one the WAL has a
   * marker for), or undefined when there is none. Damaged files are renamed to `.broken`.
   */
  async loadNewest(accept: (m: SnapshotMarker) => boolean = () => true): Promise<SnapshotFile | undefined> {
    for (const m of await this.list()) {
      if (!accept(m)) continue;
      const name = snapshotFileName(m);
      const file = join(this.dir, name);
      let snap: SnapshotFile;
      try {
        snap = decodeSnapshotFile(await readWholeFile(this.fs, file), name);
      } catch (err) {
        if (!(err instanceof WalError && err.code === 'SNAP_CORRUPT')) throw err;
        this.logger.warn('snap: skipping a damaged snapshot file', { file, error: err.message });
        await this.fs.rename(file, file + BROKEN_SUFFIX);
        continue;
      }
      return snap;
    }
    return undefined;
  }

  /** Deletes all but the newest `keep` snapshot files; resolves to the number deleted. */
  async purge(keep: number): Promise<number> {
    assert(Number.isSafeInteger(keep) && keep >= 1, `snap: purge must keep at least one snapshot, got ${keep}`);
    const doomed = (await this.list()).slice(keep);
    for (const m of doomed) await unlinkIfExists(this.fs, join(this.dir, snapshotFileName(m)));
    if (doomed.length > 0) await syncDir(this.fs, this.dir);
    return doomed.length;
  }
}
