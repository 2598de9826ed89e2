/**
 * Lease guarantees (item 29):
 *
 * - L1 'lease-revoked-key-alive': after a revoke of lease L returned ok, no read invoked later
 *   sees a value put with L;
 * - L2 'lease-split-deletion': the keys of one lease are deleted in a single revision (from the
 *   committed log: a DELETE of a key whose last PUT carried L, not explained by a client delete);
 * - L3 'lease-expired-early': a lease's keys are not gone before TTL after the last successful
 *   keepalive request was *sent*, minus the clock-offset bound (all members share this machine's
 *   clock, so only the injected offset can make a member's view differ);
 * - L4 'lease-outlived': a lease not kept alive is gone within TTL + election timeout + 2 s after
 *   its last keepalive took effect (extended past every fault interval overlapping that window);
 * - L5 'lease-put-after-gone': a put with a lease that was revoked or known gone fails.
 *
 * Expected ops: lease-grant (invoke ttl; ok lease, ttl), lease-keepalive (invoke lease; ok ttl,
 * ≤ 0 when the lease is gone), lease-revoke (invoke lease), lease-ttl (invoke lease; ok ttl, -1
 * when gone), lease-put (invoke key, value, lease), read (invoke key; ok value, maybe lease).
 * Write values are unique, so a value names the put (and lease) that wrote it.
 */
import type { HistoryEvent, WatchEventRecord, WatchRecord } from '../history.js';
import type { CommittedLog } from './committed-log.js';
import { toOps, valueKey, witness, type Op } from './ops.js';
import { AnomalySink, type CheckResult } from './result.js';

export interface LeaseOptions {
  readonly committed?: CommittedLog;
  readonly watches?: readonly WatchRecord[];
  /** The members' election timeout (L4). Default 1000 ms. */
  readonly electionTimeoutMs?: number;
  /** The largest clock offset the nemesis injected (L3). Default 0. */
  readonly clockOffsetBoundMs?: number;
  /** Periods when the cluster was not healthy (nemesis active), [start_ns, end_ns]. */
  readonly faultIntervals?: readonly (readonly [number, number])[];
}

interface LeaseInfo {
  readonly id: string;
  grant?: Op;
  ttlS?: number;
  readonly keepalives: Op[];
  readonly revokes: Op[];
  readonly ttlReads: Op[];
  readonly puts: Op[];
  /** Earliest time the lease was known gone, and the evidence. */
  goneAt: number;
  goneBy?: string;
  goneOp?: Op;
  /** Revisions at which its keys were deleted (committed log), excluding client deletes. */
  deletionRevs: Set<number>;
}

const S_NS = 1e9;
const MS_NS = 1e6;

export function checkLease(events: readonly HistoryEvent[], opts: LeaseOptions = {}): CheckResult {
  const sink = new AnomalySink();
  const ops = toOps(events, (f) => f.startsWith('lease-') || f === 'read' || f === 'delete');
  const leases = new Map<string, LeaseInfo>();
  const lease = (id: string): LeaseInfo => {
    let l = leases.get(id);
    if (l === undefined) leases.set(id, (l = { id, keepalives: [], revokes: [], ttlReads: [], puts: [], goneAt: Infinity, deletionRevs: new Set() }));
    return l;
  };
  const putByValue = new Map<string, { op: Op; lease: string }>();
  const clientDeletes = new Map<string, Op[]>();
  const reads: Op[] = [];
  for (const op of ops) {
    const id = op.complete?.lease ?? op.invoke.lease;
    switch (op.f) {
      case 'lease-grant':
        if (op.type === 'ok' && id !== undefined) {
          const l = lease(id);
          l.grant = op;
          const ttl = op.complete?.ttl ?? op.invoke.ttl;
          if (ttl !== undefined) l.ttlS = ttl;
        }
        break;
      case 'lease-keepalive':
        if (id !== undefined) lease(id).keepalives.push(op);
        break;
      case 'lease-revoke':
        if (id !== undefined) lease(id).revokes.push(op);
        break;
      case 'lease-ttl':
        if (id !== undefined) lease(id).ttlReads.push(op);
        break;
      case 'lease-put':
        if (id !== undefined) {
          lease(id).puts.push(op);
          if (op.type !== 'fail' && op.invoke.key !== undefined) putByValue.set(`${op.invoke.key}\u0000${valueKey(op.invoke.value)}`, { op, lease: id });
        }
        break;
      case 'delete':
        if (op.invoke.key !== undefined && op.type !== 'fail') {
          const list = clientDeletes.get(op.invoke.key) ?? [];
          list.push(op);
          clientDeletes.set(op.invoke.key, list);
        }
        break;
      case 'read':
        if (op.type === 'ok') reads.push(op);
        break;
      default:
        break;
    }
  }
  const leaseOfRead = (r: Op): { lease: string; put?: Op } | undefined => {
    const v = r.complete?.value;
    if (v === null || v === undefined || r.invoke.key === undefined) return undefined;
    const p = putByValue.get(`${r.invoke.key}\u0000${valueKey(v)}`);
    if (p !== undefined) return { lease: p.lease, put: p.op };
    const l = r.complete?.lease;
    return l === undefined || l === '0' ? undefined : { lease: l };
  };
  const gone = (l: LeaseInfo, t: number, by: string, op?: Op): void => {
    if (t < l.goneAt) {
      l.goneAt = t;
      l.goneBy = by;
      if (op !== undefined) l.goneOp = op;
    }
  };
  for (const l of leases.values()) {
    for (const r of l.revokes) if (r.type === 'ok') gone(l, r.ret, 'revoked', r);
    for (const t of l.ttlReads) if (t.type === 'ok' && (t.complete?.ttl ?? 0) < 0) gone(l, t.ret, 'TimeToLive -1', t);
    for (const k of l.keepalives) if (k.type === 'ok' && (k.complete?.ttl ?? 1) <= 0) gone(l, k.ret, 'keepalive TTL 0', k);
  }

  // L2 from the committed log: DELETEs of keys whose last PUT carried a lease. Only the leases
  // this history touched are judged: the log may hold other writers' leases and deletes (an
  // earlier run on the same cluster), whose deletes this history cannot explain.
  const deletions = new Map<string, WatchEventRecord[]>();
  const ours = new Set(leases.keys());
  if (opts.committed !== undefined) {
    const lastPut = new Map<string, WatchEventRecord>();
    for (const e of opts.committed.events) {
      if (e.lease !== undefined && e.lease !== '0' && !ours.has(e.lease)) {
        if (e.type === 'PUT') lastPut.delete(e.key);
        continue;
      }
      if (e.type === 'PUT') {
        lastPut.set(e.key, e);
        if (e.lease !== undefined && e.lease !== '0') {
          const l = leases.get(e.lease);
          // L5 in the log: a put with a lease after the lease's keys were deleted.
          if (l !== undefined && l.deletionRevs.size > 0 && e.mod_revision > Math.max(...l.deletionRevs)) {
            sink.add({ type: 'lease-put-after-gone', key: e.key, message: `committed PUT ${e.key}@${e.mod_revision} with lease ${e.lease} after its keys were deleted at revision ${Math.max(...l.deletionRevs)}`, events: [], details: { event: e } });
          }
        }
        continue;
      }
      const p = lastPut.get(e.key);
      lastPut.delete(e.key);
      if (p?.lease === undefined || p.lease === '0') continue;
      const explained = (clientDeletes.get(e.key) ?? []).some((d) => d.complete?.revision === undefined || d.complete.revision === e.mod_revision);
      if (explained) continue;
      const list = deletions.get(p.lease) ?? [];
      list.push(e);
      deletions.set(p.lease, list);
      lease(p.lease).deletionRevs.add(e.mod_revision);
    }
  }
  for (const [id, dels] of deletions) {
    const revs = [...new Set(dels.map((d) => d.mod_revision))];
    if (revs.length > 1) {
      sink.add({ type: 'lease-split-deletion', message: `keys of lease ${id} were deleted at ${revs.length} revisions: ${dels.map((d) => `${d.key}@${d.mod_revision}`).join(', ')}`, events: [], details: { lease: id, deletions: dels } });
    }
  }
  // When each lease deletion was first observed: a watcher's response time, or a read of an
  // attached key that found it absent.
  const deletionSeen = new Map<string, number>();
  const keyLease = new Map<string, string>();
  for (const [id, dels] of deletions) for (const d of dels) keyLease.set(`${d.key}@${d.mod_revision}`, id);
  for (const w of opts.watches ?? []) {
    if (w.collector === true) continue;
    for (const r of w.responses) {
      for (const e of r.events) {
        const id = e.type === 'DELETE' ? keyLease.get(`${e.key}@${e.mod_revision}`) : undefined;
        if (id !== undefined && r.time_ns < (deletionSeen.get(id) ?? Infinity)) deletionSeen.set(id, r.time_ns);
      }
    }
  }
  for (const [id, t] of deletionSeen) gone(lease(id), t, 'deletion observed by a watcher');
  const deletedKeysOf = new Map<string, Set<string>>();
  for (const [id, dels] of deletions) deletedKeysOf.set(id, new Set(dels.map((d) => d.key)));
  for (const r of reads) {
    if (r.complete?.value !== null && r.complete?.value !== undefined) continue;
    const key = r.invoke.key;
    if (key === undefined || (clientDeletes.get(key)?.length ?? 0) > 0) continue;
    for (const l of leases.values()) {
      const attached = l.puts.some((p) => p.type === 'ok' && p.invoke.key === key && p.ret < r.call);
      if (attached && deletedKeysOf.get(l.id)?.has(key) !== false) gone(l, r.ret, `read of ${key} found it absent`, r);
    }
  }

  // L1 and L5.
  for (const r of reads) {
    const a = leaseOfRead(r);
    if (a === undefined) continue;
    const l = leases.get(a.lease);
    const revoke = l?.revokes.find((x) => x.type === 'ok' && x.ret < r.call);
    if (revoke !== undefined) {
      sink.add({
        type: 'lease-revoked-key-alive',
        key: r.invoke.key ?? '',
        message: `read of ${r.invoke.key} at index ${r.invoke.index} saw ${JSON.stringify(r.complete?.value)} of lease ${a.lease}, revoked at index ${revoke.complete?.index}`,
        events: [...witness(revoke), ...witness(r), ...(a.put === undefined ? [] : witness(a.put))],
      });
    }
  }
  for (const l of leases.values()) {
    for (const p of l.puts) {
      if (p.type === 'ok' && p.call > l.goneAt) {
        sink.add({
          type: 'lease-put-after-gone',
          key: p.invoke.key ?? '',
          message: `put of ${p.invoke.key} with lease ${l.id} at index ${p.invoke.index} succeeded after the lease was gone (${l.goneBy})`,
          events: [...witness(p), ...(l.goneOp === undefined ? [] : witness(l.goneOp))],
        });
      }
    }
  }

  // L3 and L4 need the TTL.
  const offsetNs = (opts.clockOffsetBoundMs ?? 0) * MS_NS;
  const electionNs = (opts.electionTimeoutMs ?? 1000) * MS_NS;
  const endNs = events.length === 0 ? 0 : events[events.length - 1]!.time_ns;
  const faults = [...(opts.faultIntervals ?? [])].sort((a, b) => a[0] - b[0]);
  const stats = { leases: leases.size, leaseDeletions: deletions.size, l3Checked: 0, l4Checked: 0 };
  for (const l of leases.values()) {
    if (l.grant === undefined || l.ttlS === undefined) continue;
    const ttlNs = l.ttlS * S_NS;
    const expiredBy = l.goneBy !== 'revoked' && l.revokes.every((r) => r.call > l.goneAt);
    // L3: gone (not revoked) before TTL after the last successful renewal was sent.
    if (expiredBy && Number.isFinite(l.goneAt)) {
      stats.l3Checked++;
      let renewed = l.grant.call;
      let by: Op = l.grant;
      for (const k of l.keepalives) if (k.type === 'ok' && (k.complete?.ttl ?? 1) > 0 && k.call < l.goneAt && k.call > renewed) {
        renewed = k.call;
        by = k;
      }
      if (l.goneAt < renewed + ttlNs - offsetNs) {
        sink.add({
          type: 'lease-expired-early',
          message: `lease ${l.id} (TTL ${l.ttlS}s) was gone (${l.goneBy}) ${((renewed + ttlNs - l.goneAt) / MS_NS).toFixed(0)} ms before TTL after its last renewal was sent`,
          events: [...witness(by), ...(l.goneOp === undefined ? [] : witness(l.goneOp))],
        });
      }
    }
    // L4: gone within TTL + election timeout + 2 s of the last renewal taking effect.
    const slack = ttlNs + electionNs + 2 * S_NS;
    let deadline = l.grant.ret + slack;
    let unknownEffect = false;
    let outlivedBy: Op | undefined;
    const extend = (): void => {
      for (const [a, b] of faults) if (a <= deadline && b + slack > deadline) deadline = b + slack;
    };
    extend();
    for (const k of [...l.keepalives].sort((a, b) => a.call - b.call)) {
      if (k.call <= deadline) {
        if (k.complete === undefined) unknownEffect = true;
        else if (k.type !== 'fail') deadline = Math.max(deadline, k.complete.time_ns + slack);
        extend();
      } else if (k.type === 'ok' && (k.complete?.ttl ?? 1) > 0) {
        outlivedBy = k;
        break;
      }
    }
    if (unknownEffect) continue;
    stats.l4Checked++;
    outlivedBy ??= l.ttlReads.find((t) => t.call > deadline && t.type === 'ok' && (t.complete?.ttl ?? -1) > 0);
    outlivedBy ??= reads.find((r) => r.call > deadline && leaseOfRead(r)?.lease === l.id);
    if (outlivedBy !== undefined) {
      sink.add({
        type: 'lease-outlived',
        message: `lease ${l.id} (TTL ${l.ttlS}s) still alive at index ${outlivedBy.invoke.index}, ${((outlivedBy.call - deadline) / MS_NS).toFixed(0)} ms past its deadline (TTL + election timeout + 2 s after its last renewal)`,
        events: [...witness(l.grant), ...witness(outlivedBy)],
      });
    } else if (opts.committed !== undefined && endNs > deadline && !deletions.has(l.id) && l.puts.some((p) => p.type === 'ok')) {
      const stillThere = keysStillAttached(opts.committed, l.id);
      if (stillThere.length > 0) {
        sink.add({ type: 'lease-outlived', message: `lease ${l.id} (TTL ${l.ttlS}s) still had keys ${stillThere.join(', ')} at the end of the run, past its deadline`, events: witness(l.grant) });
      }
    }
  }
  return sink.result('lease', stats);
}

function keysStillAttached(log: CommittedLog, id: string): string[] {
  const cur = new Map<string, string | undefined>();
  for (const e of log.events) cur.set(e.key, e.type === 'PUT' ? (e.lease ?? '0') : undefined);
  return [...cur].filter(([, l]) => l === id).map(([k]) => k);
}
