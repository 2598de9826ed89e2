/**
 * admin (item 19): during traffic, compact at a recent revision (current − 0..100) through one
 * member, then defragment every running member (etcd #17780 and #18089 came from these). The
 * fault is the action itself: start() runs it and records start-admin and stop-admin around it
 * (the stop event carries the compaction's outcome, for the watch checker); stop() does nothing.
 */
import { ClientError } from '../../src/client/index.js';
import type { Prng } from '../../src/util/prng.js';
import { gateway } from '../db.js';
import type { RunContext } from '../types.js';
import type { ScheduledNemesis } from './targets.js';

export class AdminNemesis implements ScheduledNemesis {
  readonly name = 'admin';
  private lastCompacted = 0;

  constructor(private readonly prng: Prng) {}

  holdMs(prng: Prng): number {
    return prng.range(500, 2000);
  }

  async start(ctx: RunContext): Promise<void> {
    const up = ctx.db.nodes.filter((n) => ctx.db.state(n.name) === 'up');
    const via = up.length > 0 ? this.prng.pick(up) : undefined;
    if (via === undefined) return;
    const client = ctx.client(via.name);
    let current: number;
    try {
      current = (await client.range({ key: 'jepsen-lite/admin' }, { timeoutMs: 2000 })).header.revision;
    } catch (e) {
      ctx.recorder.nemesis('start-admin', { node: via.name, skipped: `no revision: ${errorText(e)}` });
      ctx.recorder.nemesis('stop-admin', { node: via.name, ok: false });
      return;
    }
    const revision = Math.max(1, current - this.prng.int(Math.min(100, current) + 1));
    const physical = this.prng.chance(0.5);
    const defrag = up.map((n) => n.name);
    ctx.recorder.nemesis('start-admin', { node: via.name, compact: revision, physical, defrag });
    const result: Record<string, unknown> = { node: via.name, compact: revision };
    if (revision > this.lastCompacted) {
      try {
        await client.compact(revision, { physical }, { timeoutMs: 5000 });
        this.lastCompacted = revision;
        result['compacted'] = true;
      } catch (e) {
        result['compacted'] = false;
        result['compactError'] = errorText(e);
      }
    } else {
      result['compacted'] = false;
      result['compactError'] = 'not above the last compaction';
    }
    const defragErrors: Record<string, string> = {};
    for (const n of up) {
      try {
        await gateway(n.clientUrl, 'maintenance/defragment', {}, 5000);
      } catch (e) {
        defragErrors[n.name] = errorText(e);
      }
    }
    result['defrag'] = defrag;
    if (Object.keys(defragErrors).length > 0) result['defragErrors'] = defragErrors;
    ctx.recorder.nemesis('stop-admin', result);
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

export function errorText(e: unknown): string {
  if (e instanceof ClientError) return `${e.statusName}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
