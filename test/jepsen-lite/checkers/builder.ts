/**
 * A tiny history builder for the checkers' positive controls: ops are written as
 * `op(process, f, [start, end], invokeFields, completion, completeFields)` and `build()` sorts
 * the events by time and numbers them, as the harness would.
 */
import type { ClientEvent, HistoryEvent, OpF, WatchEventRecord, WatchRecord, WatchResponseRecord } from '../../../jepsen-lite/history.js';

type Fields = Partial<Omit<ClientEvent, 'index' | 'time_ns' | 'process' | 'type' | 'f'>>;

export class HistoryBuilder {
  private readonly evs: { e: Omit<ClientEvent, 'index'>; seq: number }[] = [];
  private seq = 0;

  op(process: number, f: OpF, [start, end]: readonly [number, number | undefined], inv: Fields, type: 'ok' | 'fail' | 'info' = 'ok', comp: Fields = {}): this {
    this.evs.push({ e: { process, f, time_ns: start, type: 'invoke', ...inv }, seq: this.seq++ });
    if (end !== undefined) this.evs.push({ e: { process, f, time_ns: end, type, ...inv, ...comp }, seq: this.seq++ });
    return this;
  }

  build(): HistoryEvent[] {
    return [...this.evs].sort((a, b) => a.e.time_ns - b.e.time_ns || a.seq - b.seq).map(({ e }, index) => ({ ...e, index }) as ClientEvent);
  }
}

/** Finds the index of the invoke of the op with these properties (for witness assertions). */
export function indexOf(events: readonly HistoryEvent[], pred: (e: ClientEvent) => boolean): number {
  const e = events.find((x) => x.process !== 'nemesis' && x.type === 'invoke' && pred(x as ClientEvent));
  if (e === undefined) throw new Error('no such event');
  return e.index;
}

export function put(key: string, value: string, mod: number, create: number, version: number, extra: Partial<WatchEventRecord> = {}): WatchEventRecord {
  return { type: 'PUT', key, value, mod_revision: mod, create_revision: create, version, ...extra };
}

export function del(key: string, mod: number, extra: Partial<WatchEventRecord> = {}): WatchEventRecord {
  return { type: 'DELETE', key, value: null, mod_revision: mod, create_revision: 0, version: 0, ...extra };
}

export function resp(events: WatchEventRecord[], extra: Partial<WatchResponseRecord> = {}): WatchResponseRecord {
  const revision = events.length === 0 ? 0 : events[events.length - 1]!.mod_revision;
  return { time_ns: 0, revision, progress_notify: false, canceled: false, compact_revision: 0, events, ...extra };
}

/** A watch on the prefix 'k' by default; given a `key` and no `range_end`, on that key alone. */
export function watchRecord(watcher: string, responses: WatchResponseRecord[], extra: Partial<WatchRecord> = {}): WatchRecord {
  const range = extra.key !== undefined && !('range_end' in extra) ? {} : { range_end: 'l' };
  return { watcher, node: 'n1', time_ns: 0, key: 'k', ...range, start_revision: 0, prev_kv: false, progress_notify: false, responses, ...extra };
}

export function collectorRecord(name: string, events: WatchEventRecord[]): WatchRecord {
  return watchRecord(name, [resp(events)], { key: '\u0000', range_end: '\u0000', start_revision: 1, collector: true });
}
