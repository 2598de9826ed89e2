/**
 * prevKv for watchers that asked for it. mvcc's events carry prevKv only when the request that
 * made them asked for it, so, like etcd's watch stream sendLoop (api/v3rpc/watch.go), the
 * server fills the rest just before writing a response: the key as of modRevision - 1. A create
 * (PUT with version 1) has no previous kv. Async, so it runs in the send path, never in notify.
 */
import { EventType, type Event, type KeyValue } from '../mvcc/index.js';

/** The key's kv as of rev, or undefined (e.g. `store.range(key, undefined, { revision: rev })`). */
export type KvAt = (key: Uint8Array, rev: number) => Promise<KeyValue | undefined>;

export async function fillPrevKvs(events: readonly Event[], kvAt: KvAt): Promise<Event[]> {
  const out: Event[] = [];
  for (const ev of events) {
    const isCreate = ev.type === EventType.PUT && ev.kv.version === 1;
    if (ev.prevKv !== undefined || isCreate) {
      out.push(ev);
      continue;
    }
    const prev = await kvAt(ev.kv.key, ev.kv.modRevision - 1);
    out.push(prev === undefined ? ev : { ...ev, prevKv: prev });
  }
  return out;
}
