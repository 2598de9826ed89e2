/**
 * The simulation's history, in jepsen-lite's format (jepsen-lite/history.ts), so jepsen-lite's
 * checkers read it unchanged: client ops as invoke/completion pairs, nemesis events, and watch
 * records. Times are virtual (the scheduler's clock, in nanoseconds).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClientEvent, HistoryEvent, NemesisEvent, WatchEventRecord, WatchRecord, WatchResponseRecord } from '../../jepsen-lite/history.js';
import { EtcdError } from '../../src/errors.js';
import { classify } from '../../src/client/errors.js';
import { EventType, type KeyValue, type WatchResult } from '../../src/server/service.js';
import type { Owner, Scheduler } from './scheduler.js';

export type Invoke = Omit<ClientEvent, 'index' | 'time_ns' | 'process' | 'type' | 'node'>;
export type Completion = Omit<ClientEvent, 'index' | 'time_ns' | 'process' | 'type' | 'f' | 'node'>;
export type Outcome = ({ readonly type: 'ok' } | { readonly type: 'fail'; readonly error: string }) & Completion;

export class History {
  readonly events: HistoryEvent[] = [];
  readonly watches: WatchRecord[] = [];
  private processes = 0;

  constructor(private readonly sched: Scheduler) {}

  get timeNs(): number {
    return Math.round(this.sched.now * 1e6);
  }

  newProcess(): number {
    return this.processes++;
  }

  client(e: Omit<ClientEvent, 'index' | 'time_ns'>): ClientEvent {
    const full = { index: this.events.length, time_ns: this.timeNs, ...e } as ClientEvent;
    this.events.push(full);
    return full;
  }

  nemesis(f: string, value?: unknown): void {
    const e: NemesisEvent = { index: this.events.length, time_ns: this.timeNs, process: 'nemesis', type: 'info', f, ...(value === undefined ? {} : { value }) };
    this.events.push(e);
  }

  /** Writes history.jsonl and watch/<watcher>.jsonl into dir, as a jepsen-lite run directory. */
  async save(dir: string): Promise<void> {
    const line = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) + '\n';
    await mkdir(path.join(dir, 'watch'), { recursive: true });
    await writeFile(path.join(dir, 'history.jsonl'), this.events.map(line).join(''));
    const byWatcher = new Map<string, WatchRecord[]>();
    for (const w of this.watches) byWatcher.set(w.watcher, [...(byWatcher.get(w.watcher) ?? []), w]);
    for (const [name, records] of byWatcher) await writeFile(path.join(dir, 'watch', `${name}.jsonl`), records.map(line).join(''));
  }

  /** A digest of everything recorded: the same seed must give the same one. */
  hash(): string {
    const h = createHash('sha256');
    const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    for (const e of this.events) h.update(text(e)).update('\n');
    for (const w of this.watches) h.update(text(w)).update('\n');
    return h.digest('hex').slice(0, 16);
  }
}

/** A logical process of a client: after an unknown outcome it continues as a new one. */
export class Process {
  id: number;
  constructor(private readonly history: History) {
    this.id = history.newProcess();
  }
  retire(): void {
    this.id = this.history.newProcess();
  }
}

/** Whether an error certainly means "not applied" (src/client/errors.ts's rules, on the server's error). */
function definite(e: unknown): boolean {
  return e instanceof EtcdError && classify(e.grpcCode, e.message).definite;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

const TIMED_OUT: unique symbol = Symbol('timeout');

/**
 * Records one op: its invoke now, its completion when `body` answers. A body that throws
 * definitely (or any read) is a `fail`; otherwise, or when no answer comes in timeoutMs, the
 * outcome is unknown (`info`) and the process retires.
 */
export async function perform(
  history: History,
  sched: Scheduler,
  owner: Owner,
  proc: Process,
  node: string,
  inv: Invoke,
  body: () => Promise<Outcome>,
  opts: { readonly timeoutMs: number; readonly readOnly: boolean },
): Promise<ClientEvent> {
  const process = proc.id;
  const key = inv.key === undefined ? {} : { key: inv.key };
  history.client({ ...inv, process, type: 'invoke', node });
  let out: Outcome | typeof TIMED_OUT;
  try {
    out = await Promise.race([body(), sched.sleep(opts.timeoutMs, owner).then((): typeof TIMED_OUT => TIMED_OUT)]);
  } catch (e) {
    const type = opts.readOnly || definite(e) ? 'fail' : 'info';
    if (type === 'info') proc.retire();
    return history.client({ process, type, f: inv.f, ...key, error: errorText(e), node });
  }
  if (out === TIMED_OUT) {
    const type = opts.readOnly ? 'fail' : 'info';
    if (type === 'info') proc.retire();
    return history.client({ process, type, f: inv.f, ...key, error: 'client timeout', node });
  }
  const { type, ...rest } = out;
  return history.client({ f: inv.f, ...key, ...rest, process, type, node });
}

export const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** Values the workloads write are numbers; they read back as numbers. */
export function parseValue(b: Uint8Array): number | string {
  const s = text(b);
  return /^-?\d{1,15}$/.test(s) ? Number(s) : s;
}

export function kvFields(kv: KeyValue | undefined): { mod_revision?: number; version?: number } {
  return kv === undefined ? {} : { mod_revision: kv.modRevision, version: kv.version };
}

function kvRecord(kv: KeyValue): { key: string; value: string; mod_revision: number; create_revision: number; version: number } {
  return { key: text(kv.key), value: text(kv.value), mod_revision: kv.modRevision, create_revision: kv.createRevision, version: kv.version };
}

/** A member's watch response as a history record (jepsen-lite's watch.json shape). */
export function responseRecord(r: WatchResult, timeNs: number): WatchResponseRecord {
  const events: WatchEventRecord[] = r.events.map((e) => {
    const put = e.type === EventType.PUT;
    return {
      type: put ? ('PUT' as const) : ('DELETE' as const),
      key: text(e.kv.key),
      value: put ? text(e.kv.value) : null,
      mod_revision: e.kv.modRevision,
      create_revision: e.kv.createRevision,
      version: e.kv.version,
      ...(e.kv.lease !== 0n ? { lease: e.kv.lease.toString() } : {}),
      ...(e.prevKv !== undefined ? { prev_kv: kvRecord(e.prevKv) } : {}),
    };
  });
  const canceled = r.canceled === true;
  return {
    time_ns: timeNs,
    revision: r.header.revision,
    progress_notify: events.length === 0 && r.created !== true && !canceled,
    canceled,
    compact_revision: r.compactRevision ?? 0,
    ...(r.fragment === true ? { fragment: true } : {}),
    events,
  };
}
