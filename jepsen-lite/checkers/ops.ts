/**
 * Operations as the checkers see them: an invoke paired with its completion, with a call and a
 * return time. An op that never completed is treated as `info` (it may have happened, at any
 * time after its invoke), so its return time is +Infinity.
 */
import { isNemesis, pairOps, type ClientEvent, type HistoryEvent, type OpF } from '../history.js';

export interface Op {
  /** Dense ordinal in invoke order, 0-based. */
  readonly id: number;
  readonly process: number;
  readonly f: OpF;
  readonly invoke: ClientEvent;
  readonly complete: ClientEvent | undefined;
  readonly type: 'ok' | 'fail' | 'info';
  readonly call: number;
  /** Completion time for ok/fail; +Infinity for info. */
  readonly ret: number;
}

export function clientEvents(events: readonly HistoryEvent[]): ClientEvent[] {
  const out: ClientEvent[] = [];
  for (const e of events) if (!isNemesis(e)) out.push(e);
  return out;
}

/** Pairs the client events of a history into ops, in invoke order. */
export function toOps(events: readonly HistoryEvent[], keep?: (f: OpF) => boolean): Op[] {
  const client = clientEvents(events).filter((e) => keep === undefined || keep(e.f));
  return pairOps(client).map(({ invoke, complete }, id) => {
    const type = complete === undefined || complete.type === 'info' ? 'info' : complete.type === 'ok' ? 'ok' : 'fail';
    if (complete !== undefined && complete.type === 'invoke') throw new Error(`bad completion at index ${complete.index}`);
    return {
      id,
      process: invoke.process,
      f: invoke.f,
      invoke,
      complete,
      type,
      call: invoke.time_ns,
      ret: type === 'info' || complete === undefined ? Infinity : complete.time_ns,
    };
  });
}

/** The event indices that witness an op: its invoke and, if any, its completion. */
export function witness(op: Op): number[] {
  return op.complete === undefined ? [op.invoke.index] : [op.invoke.index, op.complete.index];
}

/** A stable text key for a value compared by content (values are JSON data). */
export function valueKey(v: unknown): string {
  if (v === null || v === undefined) return '\u0000null';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Short human text for an op: "p3 write k1 7 ok @r12". */
export function describeOp(op: Op): string {
  const c = op.complete;
  const parts = [`p${op.process}`, op.f];
  if (op.invoke.key !== undefined) parts.push(op.invoke.key);
  if (op.f === 'cas') parts.push(`${JSON.stringify(op.invoke.expected ?? null)}->${JSON.stringify(op.invoke.value ?? null)}`);
  else if (op.f === 'read') parts.push(JSON.stringify(c?.value ?? null));
  else if (op.invoke.value !== undefined) parts.push(JSON.stringify(op.invoke.value));
  parts.push(op.type);
  if (c?.revision !== undefined) parts.push(`@r${c.revision}`);
  if (c?.mod_revision !== undefined && op.f === 'read') parts.push(`mod=${c.mod_revision}`);
  return parts.join(' ');
}
