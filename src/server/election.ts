/**
 * etcd's Election service (v3electionpb.Election: clientv3/concurrency's Election) on a
 * MemberService. A candidate's key is `<name>/<lease hex>` holding its proposed value; the
 * leader is the key under `<name>/` with the smallest create revision, and a LeaderKey proves
 * leadership by that create revision (`rev`): Proclaim and Resign act only while the key still
 * has it, so a leader whose lease expired and whose key was re-created cannot act on the new one.
 */
import { EtcdError } from '../errors.js';
import {
  byCreateRevision,
  existingKv,
  keyPrefix,
  prefixEnd,
  sessionLease,
  waiterKey,
  waitDeletes,
  WatchCursor,
} from './concurrency.js';
import {
  CompareResult,
  CompareTarget,
  EventType,
  SortOrder,
  type Compare,
  type KeyValue,
  type LeaderKey,
  type MemberService,
  type ResponseHeader,
} from './service.js';

export interface CampaignRequest {
  readonly name: Uint8Array;
  /** 0: a new lease of clientv3's session TTL. */
  readonly lease: bigint;
  readonly value: Uint8Array;
}

export interface CampaignResult {
  /** The header of the txn that entered the election (as etcd answers, even after waiting). */
  readonly header: ResponseHeader;
  readonly leader: LeaderKey;
}

export interface LeaderResult {
  readonly header: ResponseHeader;
  readonly kv: KeyValue;
}

/**
 * Enters the election and waits until leading it. A candidate key the lease already has is
 * reused (its value replaced when it differs). When `signal` aborts while waiting, the
 * candidacy is withdrawn (resigned) and Canceled is thrown.
 */
export async function campaign(service: MemberService, req: CampaignRequest, signal: AbortSignal): Promise<CampaignResult> {
  const lease = await sessionLease(service, req.lease);
  const prefix = keyPrefix(req.name);
  const key = waiterKey(prefix, lease);
  const t = await service.txn({
    compare: [{ key, target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: 0 }],
    success: [{ requestPut: { key, value: req.value, lease } }],
    failure: [{ requestRange: { key } }],
  });
  let rev = t.header.revision;
  if (!t.succeeded) {
    const kv = existingKv(t.responses);
    rev = kv.createRevision;
    if (!Buffer.from(kv.value).equals(req.value)) await proclaimOrWithdraw(service, { name: req.name, key, rev, lease }, req.value);
  }
  const leader: LeaderKey = { name: req.name, key, rev, lease };
  try {
    await waitDeletes(service, prefix, rev - 1, signal);
  } catch (e) {
    if (signal.aborted) await resignQuietly(service, leader);
    throw e;
  }
  return { header: t.header, leader };
}

async function proclaimOrWithdraw(service: MemberService, leader: LeaderKey, value: Uint8Array): Promise<void> {
  try {
    await proclaim(service, leader, value);
  } catch (e) {
    await resignQuietly(service, leader);
    throw e;
  }
}

/** Replaces the leader's value; ElectionNotLeader when `leader` no longer holds its key. */
export async function proclaim(service: MemberService, leader: LeaderKey, value: Uint8Array): Promise<{ header: ResponseHeader }> {
  // etcd resumes the election on a session of the given lease: lease 0 gets a new one.
  const lease = await sessionLease(service, leader.lease);
  const t = await service.txn({
    compare: [holds(leader)],
    success: [{ requestPut: { key: leader.key, value, lease } }],
  });
  if (!t.succeeded) throw new EtcdError('ElectionNotLeader');
  return { header: t.header };
}

/** Gives up leadership (or candidacy): deletes the key if `leader` still holds it; else nothing. */
export async function resign(service: MemberService, leader: LeaderKey): Promise<{ header: ResponseHeader }> {
  const t = await service.txn({ compare: [holds(leader)], success: [{ requestDeleteRange: { key: leader.key } }] });
  return { header: t.header };
}

/** The leader's key-value; ElectionNoLeader when nobody campaigns. */
export async function leader(service: MemberService, name: Uint8Array): Promise<LeaderResult> {
  const r = await service.range(byCreateRevision(keyPrefix(name), SortOrder.ASCEND));
  const kv = r.kvs[0];
  if (kv === undefined) throw new EtcdError('ElectionNoLeader');
  return { header: r.header, kv };
}

/**
 * Hands `emit` the leader's key-value each time it changes: the current leader (or the first
 * one to come), then each new value it proclaims, then, once its key is deleted, the next
 * leader, and so on until `signal` aborts. Like etcd's, it ends quietly when a read fails or a
 * watch is canceled (e.g. compacted).
 */
export async function observe(
  service: MemberService,
  name: Uint8Array,
  signal: AbortSignal,
  emit: (r: LeaderResult) => Promise<void>,
): Promise<void> {
  const prefix = keyPrefix(name);
  while (!signal.aborted) {
    const current = await currentOrNextLeader(service, prefix, signal);
    if (current === undefined || signal.aborted) return;
    await emit(current);
    if (!(await followLeader(service, current, signal, emit))) return;
  }
}

/** The leader now, or the first key put under the prefix; undefined when that cannot be known. */
async function currentOrNextLeader(service: MemberService, prefix: Uint8Array, signal: AbortSignal): Promise<LeaderResult | undefined> {
  let r;
  try {
    r = await service.range(byCreateRevision(prefix, SortOrder.ASCEND));
  } catch {
    return undefined;
  }
  const kv = r.kvs[0];
  if (kv !== undefined) return { header: r.header, kv };
  const watch = new WatchCursor(service, { key: prefix, rangeEnd: prefixEnd(prefix), startRevision: r.header.revision + 1 }, signal);
  try {
    for (;;) {
      const w = await watch.next();
      if (w === undefined || w.canceled === true) return undefined;
      const put = w.events.find((ev) => ev.type === EventType.PUT);
      // The response may hold several revisions: the header says the put's own.
      if (put !== undefined) return { header: { ...w.header, revision: put.kv.modRevision }, kv: put.kv };
    }
  } finally {
    watch.close();
  }
}

/**
 * Emits each new value of the leader's key until it is deleted (true: look for the next
 * leader) or the watch ends (false).
 */
async function followLeader(
  service: MemberService,
  current: LeaderResult,
  signal: AbortSignal,
  emit: (r: LeaderResult) => Promise<void>,
): Promise<boolean> {
  const watch = new WatchCursor(service, { key: current.kv.key, startRevision: current.header.revision + 1 }, signal);
  try {
    for (;;) {
      const w = await watch.next();
      if (w === undefined || w.canceled === true) return false;
      for (const ev of w.events) {
        if (ev.type === EventType.DELETE) return true;
        await emit({ header: w.header, kv: ev.kv });
      }
    }
  } finally {
    watch.close();
  }
}

/** The compare that proves `leader` still holds its key. */
function holds(leader: LeaderKey): Compare {
  return { key: leader.key, target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: leader.rev };
}

async function resignQuietly(service: MemberService, leader: LeaderKey): Promise<void> {
  try {
    await resign(service, leader);
  } catch {
    // Nobody is left to tell; the lease's expiry removes the key.
  }
}
