/**
 * clientv3/concurrency's Session and Mutex over EtcdClient.
 *
 * - Session: a lease (TTL 60 s by default, as clientv3) kept alive every TTL/3 until close(),
 *   which revokes it, so whatever the session holds is released.
 * - Mutex: put `<prefix><lease hex>` with the session's lease unless it exists; then, while a key
 *   of the prefix was created before it, wait for the newest such key to be deleted. The lock is
 *   held while the key exists; unlock() deletes it.
 */
import type { EtcdClient } from './client.js';
import type { LeaseKeepAliveStream } from './streams.js';
import { toBuffer, type Bytes } from './wire.js';

/** clientv3's default session TTL. */
export const DEFAULT_SESSION_TTL_S = 60;

/** The end of the range of keys starting with `prefix` (clientv3's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Every byte is 0xff: no key sorts after the prefix's keys, so the range is open-ended.
  return Buffer.from([0]);
}

export class Session {
  private readonly stream: LeaseKeepAliveStream;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly client: EtcdClient,
    readonly lease: bigint,
    ttlSeconds: number,
  ) {
    this.stream = client.leaseKeepAlive();
    this.timer = setInterval(() => this.stream.send(lease).catch(() => undefined), (ttlSeconds * 1000) / 3);
    this.timer.unref();
  }

  static async open(client: EtcdClient, ttlSeconds = DEFAULT_SESSION_TTL_S): Promise<Session> {
    return new Session(client, (await client.leaseGrant(ttlSeconds)).id, ttlSeconds);
  }

  /** Stops the keep-alives and revokes the lease (best effort: it expires anyway). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stream.close();
    await this.client.leaseRevoke(this.lease).catch(() => undefined);
  }
}

export class Mutex {
  private readonly prefix: Buffer;
  /** The waiter key: `<name>/<lease hex>`. */
  readonly key: Buffer;

  constructor(
    private readonly client: EtcdClient,
    private readonly session: Session,
    name: Bytes,
  ) {
    this.prefix = Buffer.concat([toBuffer(name), Buffer.from('/')]);
    this.key = Buffer.concat([this.prefix, Buffer.from(session.lease.toString(16))]);
  }

  async lock(): Promise<void> {
    const c = this.client;
    const t = await c.txn({
      compare: [{ key: this.key, target: 'create', result: '=', value: 0 }],
      success: [{ put: { key: this.key, value: Buffer.alloc(0), lease: this.session.lease } }],
      failure: [{ range: { key: this.key } }],
    });
    const first = t.responses[0];
    const myRev = t.succeeded ? t.header.revision : first !== undefined && 'range' in first ? (first.range.kvs[0]?.createRevision ?? 0) : 0;
    if (myRev === 0) throw new Error(`mutex: ${this.key.toString()} has no create revision`);
    // Bounded by the waiters queued before this one: each round waits for one of them to go.
    for (;;) {
      const r = await c.range({ key: this.prefix, rangeEnd: prefixEnd(this.prefix), maxCreateRevision: myRev - 1, sort: { target: 'create', order: 'descend' }, limit: 1 });
      const before = r.kvs[0];
      if (before === undefined) return;
      await this.deleted(before.key, r.header.revision);
    }
  }

  async unlock(): Promise<void> {
    await this.client.deleteRange({ key: this.key });
  }

  /** Resolves once `key` is deleted after revision `rev`. */
  private async deleted(key: Uint8Array, rev: number): Promise<void> {
    const w = this.client.watch();
    try {
      w.create({ key, startRevision: rev + 1, filters: ['noPut'] });
      for await (const r of w) {
        if (r.canceled) throw new Error(`mutex: watch on ${Buffer.from(key).toString()} canceled: ${r.cancelReason}`);
        if (r.events.some((e) => e.type === 'delete')) return;
      }
      throw new Error('mutex: watch ended');
    } finally {
      w.close();
    }
  }
}
