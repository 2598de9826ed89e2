/**
 * Lock checks (item 30) on the harness-side record. A process holds lock K from its
 * lock-acquire ok until it invokes lock-release (or its last event, if it never released):
 * that is when it *believes* it holds the lock and may act on it.
 *
 * - Without fencing ('lock-overlap'): no two holders' intervals of one lock overlap. Under a
 *   pause nemesis a holder can outlive its lease, so this is expected to fail there (positive
 *   control).
 * - With fencing ('fencing-token-regressed'): protected writes (lock-write) carry the lock key's
 *   revision as a token (invoke `mod_revision`, else the token of the process's current hold:
 *   its lock-acquire ok's `mod_revision`, else `revision`); a write that began after a write with
 *   a larger token completed must not succeed.
 */
import type { HistoryEvent } from '../history.js';
import { toOps, witness, type Op } from './ops.js';
import { AnomalySink, type CheckResult } from './result.js';

export interface LockOptions {
  /** Check fencing tokens instead of interval overlap; default: when lock-writes carry tokens. */
  readonly fencing?: boolean;
}

interface Hold {
  readonly lock: string;
  readonly acquire: Op;
  readonly start: number;
  end: number;
  release?: Op;
  readonly token: number | undefined;
}

export function checkLock(events: readonly HistoryEvent[], opts: LockOptions = {}): CheckResult {
  const sink = new AnomalySink();
  const ops = toOps(events, (f) => f === 'lock-acquire' || f === 'lock-release' || f === 'lock-write');
  const lastEventOf = new Map<number, number>();
  for (const e of events) if (e.process !== 'nemesis') lastEventOf.set(e.process, e.time_ns);
  const holds: Hold[] = [];
  const current = new Map<number, Hold>();
  const writes: { op: Op; token: number | undefined; lock: string }[] = [];
  for (const op of ops) {
    if (op.f === 'lock-acquire') {
      if (op.type !== 'ok') continue;
      const h: Hold = { lock: op.invoke.key ?? '', acquire: op, start: op.ret, end: lastEventOf.get(op.process) ?? op.ret, token: op.complete?.mod_revision ?? op.complete?.revision };
      holds.push(h);
      current.set(op.process, h);
    } else if (op.f === 'lock-release') {
      const h = current.get(op.process);
      if (h !== undefined) {
        h.end = op.call;
        h.release = op;
        current.delete(op.process);
      }
    } else {
      const h = current.get(op.process);
      writes.push({ op, token: op.invoke.mod_revision ?? h?.token, lock: h?.lock ?? op.invoke.key ?? '' });
    }
  }
  const fencing = opts.fencing ?? writes.some((w) => w.op.invoke.mod_revision !== undefined);
  let overlaps = 0;
  const byLock = new Map<string, Hold[]>();
  for (const h of holds) byLock.set(h.lock, [...(byLock.get(h.lock) ?? []), h]);
  for (const [lock, list] of byLock) {
    list.sort((a, b) => a.start - b.start);
    let widest: Hold | undefined;
    for (const h of list) {
      if (widest !== undefined && h.start < widest.end) {
        overlaps++;
        if (!fencing) {
          sink.add({
            type: 'lock-overlap',
            key: lock,
            message: `lock ${lock}: process ${h.acquire.process} acquired it (index ${h.acquire.complete?.index}) while process ${widest.acquire.process} still held it (since index ${widest.acquire.complete?.index}${widest.release === undefined ? ', never released' : `, released at index ${widest.release.invoke.index}`})`,
            events: [...witness(widest.acquire), ...(widest.release === undefined ? [] : [widest.release.invoke.index]), ...witness(h.acquire)],
          });
        }
      }
      if (widest === undefined || h.end > widest.end) widest = h;
    }
  }
  let regressions = 0;
  if (fencing) {
    // Realtime pairs in one pass: the largest token among writes completed before each invoke.
    const maxDone = new Map<string, { token: number; op: Op }>();
    const atInvoke = new Map<number, { token: number; op: Op } | undefined>();
    const byIndex = new Map<number, (typeof writes)[number]>();
    for (const w of writes) {
      if (w.op.type !== 'ok' || w.token === undefined) continue;
      byIndex.set(w.op.invoke.index, w);
      byIndex.set(w.op.complete!.index, w);
    }
    for (const e of events) {
      const w = byIndex.get(e.index);
      if (w === undefined) continue;
      if (e === w.op.invoke) {
        atInvoke.set(w.op.id, maxDone.get(w.lock));
        continue;
      }
      const before = atInvoke.get(w.op.id);
      if (before !== undefined && w.token! < before.token) {
        regressions++;
        sink.add({
          type: 'fencing-token-regressed',
          key: w.lock,
          message: `lock ${w.lock}: a protected write with token ${w.token} succeeded after a write with token ${before.token} had completed`,
          events: [...witness(before.op), ...witness(w.op)],
        });
      }
      const m = maxDone.get(w.lock);
      if (m === undefined || w.token! > m.token) maxDone.set(w.lock, { token: w.token!, op: w.op });
    }
  }
  return sink.result('lock', { holds: holds.length, writes: writes.length, fencing: fencing ? 1 : 0, overlaps, regressions });
}
