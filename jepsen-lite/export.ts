/**
 * `jepsen-lite export RUN_DIR` (JEPSEN-LITE.md item 24): the register operations of a run as
 * JSON Lines on stdout, in real-time order, for an outside linearizability checker. Each line
 * keeps only process, type (invoke/ok/fail/info), f (read/write/cas), key, value (written, or
 * read; null for an absent key), expected (cas), error and time_ns. A cas that ran but found
 * another value is already a `fail` with error "cas_mismatch", and a process that got `info`
 * already continues under a new id (the register workload records them so).
 */
import path from 'node:path';
import { isNemesis, readJsonl, type ClientEvent, type HistoryEvent } from './history.js';

const REGISTER_OPS = new Set(['read', 'write', 'cas']);

export interface ExportLine {
  readonly process: number;
  readonly type: ClientEvent['type'];
  readonly f: string;
  readonly key: string | undefined;
  readonly value: unknown;
  readonly expected?: unknown;
  readonly error?: string;
  readonly time_ns: number;
}

/** The register events of a history, trimmed to the export fields. */
export function exportRegister(events: readonly HistoryEvent[]): ExportLine[] {
  const out: ExportLine[] = [];
  // A completion has the f of its invoke; only register invokes open an op we export.
  const open = new Set<number>();
  for (const e of events) {
    if (isNemesis(e)) continue;
    if (e.type === 'invoke') {
      if (!REGISTER_OPS.has(e.f) || e.key === undefined) continue;
      open.add(e.process);
    } else if (!open.delete(e.process)) {
      continue;
    }
    out.push({
      process: e.process,
      type: e.type,
      f: e.f,
      key: e.key,
      value: e.value === undefined ? null : e.value,
      ...(e.f === 'cas' ? { expected: e.expected ?? null } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      time_ns: e.time_ns,
    });
  }
  return out;
}

export async function exportRunDir(dir: string, write: (line: string) => void): Promise<number> {
  const events = await readJsonl<HistoryEvent>(path.join(dir, 'history.jsonl'));
  const lines = exportRegister(events);
  for (const l of lines) write(`${JSON.stringify(l)}\n`);
  return lines.length;
}
