/**
 * Node health (item 31): node logs free of panics, assertion failures and "ready loop failed"
 * lines that an injected failpoint does not explain; no node process exited unexpectedly; the
 * final phase (heal, wait for a leader, final reads, collectors, hashes) succeeded.
 *
 * A failpoint logs its name when it fires; a bad line within FAILPOINT_WINDOW_LINES after such a
 * line (of a failpoint the harness says it fired on that node) is the failpoint's doing. Each
 * fired failpoint also explains one unexpected exit of its node. A member whose disk was damaged
 * on purpose may refuse to run in any way.
 */
import { AnomalySink, type CheckResult } from './result.js';

export interface NodeExit {
  readonly time_ns?: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** The harness caused it (kill nemesis, end of run). */
  readonly expected: boolean;
}

export interface NodeHealthInput {
  readonly node: string;
  /** The node's captured stdout+stderr (nodes/<n>/log). */
  readonly log: string;
  readonly exits?: readonly NodeExit[];
}

export interface HealthInput {
  readonly nodes: readonly NodeHealthInput[];
  readonly firedFailpoints?: readonly { readonly node: string; readonly name: string }[];
  /**
   * Members whose files the disk nemesis damaged: refusing to run is allowed for them (a crash
   * over a WAL that lost acknowledged entries, as raft's "tocommit out of range", included), so
   * their bad lines are excused. Their exits are the harness's to mark expected.
   */
  readonly damagedNodes?: readonly string[];
  readonly finalPhase?: { readonly ok: boolean; readonly message?: string };
}

export const FAILPOINT_WINDOW_LINES = 20;
const BAD_LINE = /\bpanic(?:ked|king)?\b|AssertionError|ready loop failed/i;

export function checkHealth(input: HealthInput): CheckResult {
  const sink = new AnomalySink();
  const stats = { nodes: input.nodes.length, lines: 0, excusedLines: 0, exits: 0 };
  for (const n of input.nodes) {
    const fired = (input.firedFailpoints ?? []).filter((f) => f.node === n.node).map((f) => f.name);
    const lines = n.log.split('\n');
    stats.lines += lines.length;
    let lastFailpointLine = -Infinity;
    let reported = -Infinity;
    const damaged = (input.damagedNodes ?? []).includes(n.node);
    lines.forEach((line, i) => {
      if (damaged && BAD_LINE.test(line)) {
        stats.excusedLines++;
        return;
      }
      if (fired.some((name) => line.includes(name))) {
        lastFailpointLine = i;
        return;
      }
      if (!BAD_LINE.test(line)) return;
      if (i - lastFailpointLine <= FAILPOINT_WINDOW_LINES) {
        stats.excusedLines++;
        return;
      }
      // One anomaly per crash: skip the rest of a stack trace right after a reported line.
      if (i - reported <= 3) return;
      reported = i;
      const type = /AssertionError/.test(line) ? 'assertion-failure' : /ready loop failed/i.test(line) ? 'ready-loop-failed' : 'panic';
      sink.add({ type, message: `${n.node} log line ${i + 1}: ${line.slice(0, 300)}`, events: [], details: { node: n.node, line: i + 1, text: line.slice(0, 2000) } });
    });
    let excuses = fired.length;
    for (const x of n.exits ?? []) {
      stats.exits++;
      if (x.expected) continue;
      if (excuses > 0) {
        excuses--;
        continue;
      }
      sink.add({ type: 'unexpected-exit', message: `${n.node} exited unexpectedly (code ${x.code}, signal ${x.signal})`, events: [], details: { node: n.node, ...x } });
    }
  }
  if (input.finalPhase !== undefined && !input.finalPhase.ok) {
    sink.add({ type: 'final-phase-failed', message: `final phase failed: ${input.finalPhase.message ?? 'no message'}`, events: [] });
  }
  return sink.result('health', stats);
}
