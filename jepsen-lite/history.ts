/**
 * jepsen-lite's history: what the harness records and the checkers read (JEPSEN-LITE.md items
 * 22–24). One JSON object per line, in real-time order; 64-bit quantities that fit are numbers,
 * lease ids are decimal strings (they may not fit a double).
 *
 * An operation is an `invoke` followed, in the same logical process, by exactly one completion:
 * `ok` (it happened), `fail` (it certainly did not happen) or `info` (unknown: it may have
 * happened, at any time after the invoke). A process that got `info` never issues again; its
 * thread continues as a new process id.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** The operations of the workloads (items 6–12). */
export type OpF =
  // register (6)
  | 'read'
  | 'write'
  | 'cas'
  // append, wr (7, 8): `txn` carries the micro-ops
  | 'txn'
  // set (9)
  | 'add'
  | 'read-set'
  // lease (11)
  | 'lease-grant'
  | 'lease-keepalive'
  | 'lease-revoke'
  | 'lease-ttl'
  | 'lease-put'
  // lock (12)
  | 'lock-acquire'
  | 'lock-release'
  | 'lock-write'
  // watch writers use write/delete
  | 'delete';

/**
 * A list-append or rw-register micro-op: ['append', key, value] | ['r', key, value-read] |
 * ['w', key, value]. In an invoke, reads carry null; in an ok, what was read (a list for append,
 * a scalar for wr; null when absent).
 */
export type MicroOp = ['append', string, number] | ['r', string, number[] | number | null] | ['w', string, number];

export interface ClientEvent {
  readonly index: number;
  /** Nanoseconds since the run started (process.hrtime.bigint() - start), as a number. */
  readonly time_ns: number;
  /** Logical process id (a number), or 'nemesis'. */
  readonly process: number;
  readonly type: OpType;
  readonly f: OpF;
  readonly key?: string;
  /** The value written (invoke) or read (ok); null for an absent key. */
  readonly value?: unknown;
  /** cas: the value expected (null: expected absent). */
  readonly expected?: unknown;
  readonly txn?: MicroOp[];
  /** fail/info: the error text; a cas that found another value fails with 'cas_mismatch'. */
  readonly error?: string;
  /** The member the request went to ('n1', ...). */
  readonly node?: string;
  /** Response header revision (ok only). */
  readonly revision?: number;
  /** The key's mod_revision / version as read or written (ok only). */
  readonly mod_revision?: number;
  readonly version?: number;
  /** Lease workloads: the lease id (decimal string) and TTL (seconds). */
  readonly lease?: string;
  readonly ttl?: number;
}

export interface NemesisEvent {
  readonly index: number;
  readonly time_ns: number;
  readonly process: 'nemesis';
  readonly type: 'info';
  /** 'start-partition', 'stop-partition', 'kill', 'restart', 'pause', 'resume', ... */
  readonly f: string;
  readonly value?: unknown;
}

export type HistoryEvent = ClientEvent | NemesisEvent;

export function isNemesis(e: HistoryEvent): e is NemesisEvent {
  return e.process === 'nemesis';
}

/** An event of a watch response (item 23, etcd's watch.json shape). */
export interface WatchEventRecord {
  readonly type: 'PUT' | 'DELETE';
  readonly key: string;
  /** null for a DELETE. */
  readonly value: string | null;
  readonly mod_revision: number;
  readonly create_revision: number;
  readonly version: number;
  readonly lease?: string;
  readonly prev_kv?: { readonly key: string; readonly value: string; readonly mod_revision: number; readonly create_revision: number; readonly version: number };
}

export interface WatchResponseRecord {
  readonly time_ns: number;
  readonly revision: number;
  readonly progress_notify: boolean;
  readonly canceled: boolean;
  readonly compact_revision: number;
  readonly fragment?: boolean;
  readonly events: WatchEventRecord[];
}

/** One line of watch/<watcher>.jsonl: one watch request and everything it received. */
export interface WatchRecord {
  readonly watcher: string;
  readonly node: string;
  /** Start time of the request. */
  readonly time_ns: number;
  readonly key: string;
  /** Absent: the key alone; '\u0000': every key >= key; else [key, range_end). */
  readonly range_end?: string;
  readonly start_revision: number;
  readonly prev_kv: boolean;
  readonly progress_notify: boolean;
  readonly filters?: ('NOPUT' | 'NODELETE')[];
  /** Whether this is an end-of-run collector (watches from revision 1 to the final revision). */
  readonly collector?: boolean;
  readonly responses: WatchResponseRecord[];
}

/** Reads a JSON Lines file. */
export async function readJsonl<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') out.push(JSON.parse(line) as T);
  return out;
}

/** Pairs each invoke with its completion (by process), in invoke order; an open op has none. */
export function pairOps<E extends ClientEvent>(events: readonly E[]): { invoke: E; complete: E | undefined }[] {
  const open = new Map<number, { invoke: E; complete: E | undefined }>();
  const out: { invoke: E; complete: E | undefined }[] = [];
  for (const e of events) {
    if (e.type === 'invoke') {
      if (open.has(e.process)) throw new Error(`process ${e.process} invoked twice without completing (index ${e.index})`);
      const op = { invoke: e, complete: undefined };
      open.set(e.process, op);
      out.push(op);
    } else {
      const op = open.get(e.process);
      if (op === undefined) throw new Error(`completion without an invoke for process ${e.process} (index ${e.index})`);
      op.complete = e;
      open.delete(e.process);
    }
  }
  return out;
}
