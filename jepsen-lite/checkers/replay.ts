/**
 * Revision replay (item 27's fast cross-check): trust the server's revisions, sort the committed
 * append txns by revision, replay them against a map of lists and compare every read; then check
 * every realtime pair against the revisions (a txn that began after another completed has a
 * revision at least as large, strictly larger if both wrote). Linear after the sort. It cannot
 * see a server that lies about revisions consistently — the graph check (append.ts) can.
 *
 * Order: a writing txn with revision r executed at r and read the state at r-1 plus its own
 * appends; a read-only txn with header revision r read the state at r, so it sorts after the
 * writer of r. Keys appended by an `info` txn that did commit are skipped: its revision is
 * unknown, so replay cannot place it.
 */
import type { HistoryEvent, MicroOp } from '../history.js';
import { toOps, witness, type Op } from './ops.js';
import { AnomalySink, type CheckResult } from './result.js';

export function checkRevisionReplay(events: readonly HistoryEvent[]): CheckResult {
  const sink = new AnomalySink();
  const ops = toOps(events, (f) => f === 'txn').filter((o) => (o.invoke.txn ?? []).every((m) => m[0] === 'append' || m[0] === 'r'));
  const writes = (o: Op): boolean => (o.invoke.txn ?? []).some((m) => m[0] === 'append');
  const skipKeys = new Set<string>();
  for (const o of ops) if (o.type === 'info') for (const m of o.invoke.txn ?? []) if (m[0] === 'append') skipKeys.add(m[1]);
  const committed = ops.filter((o) => o.type === 'ok' && o.complete?.revision !== undefined);
  const stats = { txns: committed.length, withoutRevision: ops.filter((o) => o.type === 'ok' && o.complete?.revision === undefined).length, comparedReads: 0, skippedReads: 0 };
  const sorted = [...committed].sort((a, b) => a.complete!.revision! - b.complete!.revision! || Number(!writes(a)) - Number(!writes(b)) || a.id - b.id);
  const state = new Map<string, number[]>();
  const lastWriter = new Map<string, Op>();
  let prevWriter: Op | undefined;
  for (const o of sorted) {
    const rev = o.complete!.revision!;
    if (writes(o)) {
      if (prevWriter !== undefined && prevWriter.complete!.revision === rev) {
        sink.add({ type: 'duplicate-revision', message: `T${prevWriter.invoke.index} and T${o.invoke.index} both wrote at revision ${rev}`, events: [...witness(prevWriter), ...witness(o)] });
      }
      prevWriter = o;
    }
    const micro: readonly MicroOp[] = o.complete!.txn ?? o.invoke.txn ?? [];
    for (const m of micro) {
      if (m[0] === 'append') {
        const list = state.get(m[1]) ?? [];
        list.push(m[2]);
        state.set(m[1], list);
        lastWriter.set(m[1], o);
      } else if (m[0] === 'r' && (m[2] === null || Array.isArray(m[2]))) {
        if (skipKeys.has(m[1])) {
          stats.skippedReads++;
          continue;
        }
        stats.comparedReads++;
        const expect = state.get(m[1]) ?? [];
        const got = m[2] ?? [];
        if (expect.length !== got.length || expect.some((v, i) => v !== got[i])) {
          const w = lastWriter.get(m[1]);
          sink.add({
            type: 'replay-mismatch',
            key: m[1],
            message: `T${o.invoke.index} (revision ${rev}) read ${m[1]} = [${got.join(' ')}] but replay by revision gives [${expect.join(' ')}]`,
            events: [...witness(o), ...(w === undefined ? [] : witness(w))],
          });
        }
      }
    }
  }
  // Realtime pairs, one pass in history order.
  let maxAny: Op | undefined;
  let maxWrite: Op | undefined;
  const atInvoke = new Map<number, { any: Op | undefined; write: Op | undefined }>();
  const byIndex = new Map<number, Op>();
  for (const o of committed) {
    byIndex.set(o.invoke.index, o);
    byIndex.set(o.complete!.index, o);
  }
  const revOf = (o: Op | undefined): number => o?.complete?.revision ?? -Infinity;
  for (const e of events) {
    const o = byIndex.get(e.index);
    if (o === undefined) continue;
    if (e === o.invoke) {
      atInvoke.set(o.id, { any: maxAny, write: maxWrite });
      continue;
    }
    const before = atInvoke.get(o.id)!;
    const rev = revOf(o);
    const w = writes(o);
    const bad = rev < revOf(before.any) ? before.any : w && rev <= revOf(before.write) ? before.write : undefined;
    if (bad !== undefined) {
      sink.add({
        type: 'replay-realtime',
        message: `T${o.invoke.index} began after T${bad.invoke.index} (revision ${revOf(bad)}) completed, but has revision ${rev}`,
        events: [...witness(bad), ...witness(o)],
      });
    }
    if (rev > revOf(maxAny)) maxAny = o;
    if (w && rev > revOf(maxWrite)) maxWrite = o;
  }
  return sink.result('append-replay', stats);
}
