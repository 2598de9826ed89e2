/**
 * The lockers of etcd's `benchmark stm --stm-locker`: every STM transaction of a client runs
 * while it holds one mutex, "stmlock", taken with the client's session lease (TTL 60 s, kept alive
 * every TTL/3 as clientv3's Session does):
 *
 * - lock-rpc: the Lock and Unlock RPCs (v3lockpb), the server running the recipe;
 * - lock-client: clientv3/concurrency's Mutex over KV and Watch. Put `stmlock/<lease hex>` with
 *   the lease unless it exists; then, while a key of the prefix was created before it, wait for
 *   the newest such key to be deleted. Unlock deletes the key.
 *
 * So the clients' transactions run one at a time, and the figure is the lock's round trips.
 */
import type { EtcdClient, LeaseKeepAliveStream } from '../../src/client/index.js';

export type LockerKind = 'lock-client' | 'lock-rpc';

export interface Locker {
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** Ends the session: stops the keep-alives and revokes the lease (which releases a held lock). */
  close(): Promise<void>;
}

const LOCK_NAME = 'stmlock';
const SESSION_TTL_S = 60;
const EMPTY = Buffer.alloc(0);

/** The first key after every key with `prefix` (etcd's prefix range end). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

class Session {
  private readonly stream: LeaseKeepAliveStream;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly c: EtcdClient,
    readonly lease: bigint,
  ) {
    this.stream = c.leaseKeepAlive();
    this.timer = setInterval(() => this.stream.send(lease).catch(() => undefined), (SESSION_TTL_S * 1000) / 3);
    this.timer.unref();
  }

  static async open(c: EtcdClient): Promise<Session> {
    return new Session(c, (await c.leaseGrant(SESSION_TTL_S)).id);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stream.close();
    await this.c.leaseRevoke(this.lease).catch(() => undefined);
  }
}

export async function newLocker(kind: LockerKind, c: EtcdClient): Promise<Locker> {
  const session = await Session.open(c);
  return kind === 'lock-rpc' ? new RpcLocker(c, session) : new ClientLocker(c, session);
}

class RpcLocker implements Locker {
  private held: Uint8Array | undefined;

  constructor(
    private readonly c: EtcdClient,
    private readonly session: Session,
  ) {}

  async lock(): Promise<void> {
    this.held = (await this.c.lock(Buffer.from(LOCK_NAME), this.session.lease)).key;
  }

  async unlock(): Promise<void> {
    const key = this.held;
    this.held = undefined;
    if (key !== undefined) await this.c.unlock(key);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

class ClientLocker implements Locker {
  private readonly prefix = Buffer.from(`${LOCK_NAME}/`);
  private readonly key: Buffer;

  constructor(
    private readonly c: EtcdClient,
    private readonly session: Session,
  ) {
    this.key = Buffer.concat([this.prefix, Buffer.from(session.lease.toString(16))]);
  }

  async lock(): Promise<void> {
    const t = await this.c.txn({
      compare: [{ key: this.key, target: 'create', result: '=', value: 0 }],
      success: [{ put: { key: this.key, value: EMPTY, lease: this.session.lease } }],
      failure: [{ range: { key: this.key } }],
    });
    const first = t.responses[0];
    const myRev = t.succeeded ? t.header.revision : first !== undefined && 'range' in first ? (first.range.kvs[0]?.createRevision ?? 0) : 0;
    if (myRev === 0) throw new Error(`lock-client: ${this.key.toString()} has no create revision`);
    // Bounded by the waiters queued before this one: each round waits for one of them to go.
    for (;;) {
      const r = await this.c.range({ key: this.prefix, rangeEnd: prefixEnd(this.prefix), maxCreateRevision: myRev - 1, sort: { target: 'create', order: 'descend' }, limit: 1 });
      const before = r.kvs[0];
      if (before === undefined) return;
      await this.deleted(before.key, r.header.revision);
    }
  }

  async unlock(): Promise<void> {
    await this.c.deleteRange({ key: this.key });
  }

  close(): Promise<void> {
    return this.session.close();
  }

  /** Resolves once `key` is deleted after revision `rev`. */
  private async deleted(key: Uint8Array, rev: number): Promise<void> {
    const w = this.c.watch();
    try {
      w.create({ key, startRevision: rev + 1, filters: ['noPut'] });
      for await (const r of w) {
        if (r.canceled) throw new Error(`lock-client: watch on ${Buffer.from(key).toString()} canceled: ${r.cancelReason}`);
        if (r.events.some((e) => e.type === 'delete')) return;
      }
      throw new Error('lock-client: watch ended');
    } finally {
      w.close();
    }
  }
}
