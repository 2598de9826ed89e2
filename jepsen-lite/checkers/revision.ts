/**
 * Revision checks (item 26), each one linear pass over the history in real-time order:
 *
 * - per process, response header revisions never decrease ('revision-went-back');
 * - a write that completed before another began has a smaller revision ('realtime-write-order');
 * - a response's header revision is at least that of every write completed before it was
 *   invoked ('stale-header': a linearizable request must see the store at least that new);
 * - a read of key k that began after a write of k completed sees mod_revision ≥ that write's
 *   revision, and does not see k absent if the history never deletes k ('stale-read');
 * - all collectors delivered the same event sequence ('collectors-differ', from committed-log.ts);
 * - the end-of-test state hashes of all members are equal at one revision ('hash-mismatch').
 *
 * Example: p1 write x [0,5] ok @r7, p2 read x [6,8] ok mod_revision 4 → stale-read (the read
 * began after r7 completed but saw an older version).
 */
import type { ClientEvent, HistoryEvent } from '../history.js';
import type { Anomaly, CheckResult } from './result.js';
import { AnomalySink } from './result.js';

export interface StateHash {
  readonly revision: number;
  readonly hash: string | number;
}

export interface RevisionOptions {
  /** Anomalies found while building the committed log (collectors that disagree). */
  readonly collectorAnomalies?: readonly Anomaly[];
  /** End-of-test state hash per member: member → { revision, hash }. */
  readonly hashes?: Readonly<Record<string, StateHash>>;
}

/** Ops whose ok header revision is the revision they created. */
function isWrite(inv: ClientEvent): boolean {
  if (inv.f === 'write' || inv.f === 'cas' || inv.f === 'lease-put' || inv.f === 'add') return true;
  return inv.f === 'txn' && (inv.txn ?? []).some((m) => m[0] === 'append' || m[0] === 'w');
}

/** Ops served linearizably whose header revision must not be stale. */
const LINEARIZABLE_FS = new Set(['read', 'write', 'cas', 'txn', 'lease-put', 'add', 'read-set']);

interface Mark {
  readonly rev: number;
  readonly invoke: number;
  readonly complete: number;
}

export function checkRevisions(events: readonly HistoryEvent[], opts: RevisionOptions = {}): CheckResult {
  const sink = new AnomalySink();
  const lastByProcess = new Map<number, { rev: number; index: number }>();
  const open = new Map<number, { invoke: ClientEvent; maxWrite: Mark | undefined; maxKeyWrite: Mark | undefined }>();
  let maxWrite: Mark | undefined;
  const maxKeyWrite = new Map<string, Mark>();
  const deletedKeys = new Set<string>();
  for (const e of events) if (e.process !== 'nemesis' && e.f === 'delete' && e.key !== undefined) deletedKeys.add(e.key);
  // Keys attached to leases may vanish by expiry: never treat their absence as stale.
  for (const e of events) if (e.process !== 'nemesis' && e.f === 'lease-put' && e.key !== undefined) deletedKeys.add(e.key);
  const stats = { ops: 0, writes: 0, reads: 0 };
  for (const e of events) {
    if (e.process === 'nemesis') continue;
    const ce = e as ClientEvent;
    if (ce.type === 'invoke') {
      open.set(ce.process, { invoke: ce, maxWrite, maxKeyWrite: ce.key === undefined ? undefined : maxKeyWrite.get(ce.key) });
      continue;
    }
    const o = open.get(ce.process);
    open.delete(ce.process);
    if (o === undefined || ce.type !== 'ok') continue;
    stats.ops++;
    const inv = o.invoke;
    const rev = ce.revision;
    if (rev === undefined) continue;
    const last = lastByProcess.get(ce.process);
    if (last !== undefined && rev < last.rev) {
      sink.add({ type: 'revision-went-back', message: `process ${ce.process}: response revision ${rev} after ${last.rev}`, events: [last.index, ce.index] });
    }
    lastByProcess.set(ce.process, { rev, index: ce.index });
    const write = isWrite(inv);
    if (write) {
      stats.writes++;
      if (o.maxWrite !== undefined && rev <= o.maxWrite.rev) {
        sink.add({
          type: 'realtime-write-order',
          message: `write at index ${inv.index} began after a write with revision ${o.maxWrite.rev} completed, but got revision ${rev}`,
          events: [o.maxWrite.invoke, o.maxWrite.complete, inv.index, ce.index],
        });
      }
    } else if (LINEARIZABLE_FS.has(inv.f) && o.maxWrite !== undefined && rev < o.maxWrite.rev) {
      sink.add({
        type: 'stale-header',
        message: `${inv.f} at index ${inv.index} began after a write with revision ${o.maxWrite.rev} completed, but its header revision is ${rev}`,
        events: [o.maxWrite.invoke, o.maxWrite.complete, inv.index, ce.index],
      });
    }
    if (inv.f === 'read' && inv.key !== undefined) {
      stats.reads++;
      const w = o.maxKeyWrite;
      const absent = ce.value === null || ce.value === undefined;
      const mod = ce.mod_revision;
      if (w !== undefined && ((!absent && mod !== undefined && mod < w.rev) || (absent && !deletedKeys.has(inv.key)))) {
        sink.add({
          type: 'stale-read',
          key: inv.key,
          message: `read of ${inv.key} at index ${inv.index} began after the write of revision ${w.rev} completed but saw ${absent ? 'no value' : `mod_revision ${mod}`}`,
          events: [w.invoke, w.complete, inv.index, ce.index],
        });
      }
    }
    const mark = { rev, invoke: inv.index, complete: ce.index };
    if (write) {
      if (maxWrite === undefined || rev > maxWrite.rev) maxWrite = mark;
      if (inv.key !== undefined && inv.f !== 'txn') {
        const k = maxKeyWrite.get(inv.key);
        if (k === undefined || rev > k.rev) maxKeyWrite.set(inv.key, mark);
      }
    }
  }
  for (const a of opts.collectorAnomalies ?? []) sink.add(a);
  if (opts.hashes !== undefined) {
    const members = Object.entries(opts.hashes);
    const revs = new Set(members.map(([, h]) => h.revision));
    if (revs.size > 1) sink.unknown(`state hashes taken at different revisions: ${members.map(([m, h]) => `${m}@${h.revision}`).join(', ')}`);
    else {
      const distinct = new Set(members.map(([, h]) => String(h.hash)));
      if (distinct.size > 1) {
        sink.add({ type: 'hash-mismatch', message: `members' state hashes differ at revision ${[...revs][0]}: ${members.map(([m, h]) => `${m}=${h.hash}`).join(', ')}`, events: [], details: opts.hashes });
      }
    }
  }
  return sink.result('revision', { ...stats, hashedMembers: opts.hashes === undefined ? 0 : Object.keys(opts.hashes).length });
}
