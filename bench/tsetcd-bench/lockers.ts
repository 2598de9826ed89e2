/**
 * The lockers of etcd's `benchmark stm --stm-locker`: every STM transaction of a client runs
 * while it holds one mutex, "stmlock", taken with the client's session (src/client/concurrency.ts:
 * a 60 s lease kept alive as clientv3's Session does):
 *
 * - lock-rpc: the Lock and Unlock RPCs (v3lockpb), the server running the recipe;
 * - lock-client: clientv3/concurrency's Mutex over KV and Watch, run by the client.
 *
 * So the clients' transactions run one at a time, and the figure is the lock's round trips.
 */
import { Mutex, Session, type EtcdClient } from '../../src/client/index.js';

export type LockerKind = 'lock-client' | 'lock-rpc';

export interface Locker {
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** Ends the session: stops the keep-alives and revokes the lease (which releases a held lock). */
  close(): Promise<void>;
}

const LOCK_NAME = 'stmlock';

export async function newLocker(kind: LockerKind, c: EtcdClient): Promise<Locker> {
  const session = await Session.open(c);
  const close = (): Promise<void> => session.close();
  if (kind === 'lock-client') {
    const m = new Mutex(c, session, LOCK_NAME);
    return { lock: () => m.lock(), unlock: () => m.unlock(), close };
  }
  let held: Uint8Array | undefined;
  return {
    lock: async () => {
      held = (await c.lock(LOCK_NAME, session.lease)).key;
    },
    unlock: async () => {
      const key = held;
      held = undefined;
      if (key !== undefined) await c.unlock(key);
    },
    close,
  };
}
