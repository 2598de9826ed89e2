/**
 * The real environment (env.ts): the wall clock, Node's timers, crypto randomness, the disk,
 * LevelDB and the TCP peer transport. This is the only file in src/server that may touch them
 * (test/architecture.test.ts enforces it); everything else gets them through MemberEnv.
 */
import { randomInt } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import type { BatchOp, RawBatchWriter } from '../mvcc/index.js';
import type { Message } from '../raft/index.js';
import { boundTcpNetwork, Transport } from '../transport/index.js';
import type { Logger } from '../util/logger.js';
import { nodeFs, type Fs } from '../wal/index.js';
import { NO_FAILPOINTS, type Clock, type Databases, type Failpoints, type MemberEnv, type PeerNetwork, type Timers } from './env.js';
import { PeerClient, peerHttpHandler, type ExtraPeerRoute } from './peer-http.js';
import { raftMessageCodec } from './raft-codec.js';

export const realClock: Clock = { nowMs: () => Date.now() };

export const realTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
  yield: () => new Promise((r) => setImmediate(r)),
};

/** classic-level's own batch (the one its public batch() calls once it has prepared each op). */
interface NativeBatch {
  _batch(ops: readonly BatchOp[], options: object): Promise<void>;
}

/** Not `sync`: the WAL is what makes an entry durable, and backend.ts syncs LevelDB when it must. */
const NATIVE_BATCH_OPTIONS = Object.freeze({});

/**
 * The member's LevelDB. writeRaw hands mvcc's operations, which are already what classic-level
 * takes (`type`, Buffer `key` and `value`), straight to its native batch (see mvcc/db-batch.ts).
 * Only on an open database: otherwise batch() rejects with abstract-level's own error.
 */
class MemberLevel extends Level<Buffer, Buffer> implements RawBatchWriter {
  writeRaw(ops: readonly BatchOp[]): Promise<void> {
    if (this.status !== 'open' || ops.length === 0) return this.batch(ops as BatchOp[]);
    return (this as unknown as NativeBatch)._batch(ops, NATIVE_BATCH_OPTIONS);
  }
}

/** LevelDB directories (classic-level through `level`), buffers for keys and values. */
export const levelDatabases: Databases = {
  async open(dir) {
    const db = new MemberLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return db;
  },
  async exists(dir) {
    return stat(path.join(dir, 'CURRENT')).then(
      () => true,
      () => false,
    );
  },
  async remove(dir) {
    await rm(dir, { recursive: true, force: true });
  },
  async replace(from, to) {
    // Two renames: a crash between them leaves `to.old` and `from`'s absence, which the member
    // cleans up at start (the staged database is sent again).
    await rm(`${to}.old`, { recursive: true, force: true });
    await rename(to, `${to}.old`).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(from, to);
    await rm(`${to}.old`, { recursive: true, force: true });
  },
  async size(dir) {
    // LevelDB reuses freed space itself: what is on disk is what is in use.
    let total = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      total += (await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
    }
    return total;
  },
  async list(dir) {
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.map((n) => path.join(dir, n));
  },
};

/**
 * The TCP peer network: raft messages and snapshots on the transport's streams, PeerRequests as
 * HTTP on the same port. `sourceAddress` is where outgoing connections leave from (the fault
 * harness's proxies tell members apart by it); `extraRoute` is the test entry point's.
 */
export function tcpPeerNetwork(logger: Logger, opts: { sourceAddress?: string; extraRoute?: ExtraPeerRoute } = {}): PeerNetwork {
  const client = new PeerClient(opts.sourceAddress);
  return {
    async listen(me, handlers) {
      const http = peerHttpHandler((req) => handlers.serve(req), () => me.clusterId, opts.extraRoute);
      const transport = new Transport(
        {
          id: me.id,
          clusterId: me.clusterId,
          listenPeerUrls: [...me.listenPeerUrls],
          onMessages: (msgs) => handlers.onMessages(msgs as Message[]),
          onSnapshot: (header, body) => handlers.onSnapshot(header as Message, body),
          onHttp: (socket) => http.handle(socket),
          onUnreachable: (id) => handlers.onUnreachable(id),
          codec: raftMessageCodec,
          logger,
        },
        opts.sourceAddress !== undefined ? { network: boundTcpNetwork(opts.sourceAddress) } : {},
      );
      await transport.start();
      return {
        addPeer: (id, urls) => transport.addPeer(id, [...urls]),
        removePeer: (id) => transport.removePeer(id),
        send: (msgs) => transport.send(msgs),
        sendSnapshot: (to, header, body) => transport.sendSnapshot(to, header, body),
        close: async () => {
          await transport.stop();
          http.close();
        },
      };
    },
    request: (url, req, timeoutMs) => client.request(url, req, timeoutMs),
    close: () => client.close(),
  };
}

export interface RealEnvOptions {
  /** The fault harness's wrappers (src/cli/test-hooks.ts); the real ones by default. */
  readonly clock?: Clock;
  readonly fs?: Fs;
  readonly failpoints?: Failpoints;
  readonly peerSourceAddress?: string;
  readonly extraPeerRoute?: ExtraPeerRoute;
}

export function realEnv(logger: Logger, opts: RealEnvOptions = {}): MemberEnv {
  return {
    clock: opts.clock ?? realClock,
    timers: realTimers,
    random: { int: (max) => randomInt(max) },
    fs: opts.fs ?? nodeFs,
    databases: levelDatabases,
    network: tcpPeerNetwork(logger, {
      ...(opts.peerSourceAddress !== undefined ? { sourceAddress: opts.peerSourceAddress } : {}),
      ...(opts.extraPeerRoute ? { extraRoute: opts.extraPeerRoute } : {}),
    }),
    failpoints: opts.failpoints ?? NO_FAILPOINTS,
  };
}
