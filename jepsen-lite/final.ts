/**
 * The final phase of every run (item 21) and the member health check (item 31):
 *
 *   1. stop every nemesis, heal every link, resume paused members, restart killed ones, clear
 *      clock offsets;
 *   2. wait ≤ 10 s for a leader that serves a linearizable read;
 *   3. workload.final(ctx): final reads from every member, the collectors;
 *   4. HashKV of every running member at one revision (the leader's current one, once each
 *      member has applied it), through the JSON gateway (src/client has no HashKV);
 *
 * What it finds goes to final.json with every member exit; run.ts turns it into the checkers'
 * facts (hashes, health).
 */
import { gateway, sleep, type ExitRecord } from './db.js';
import { errorText } from './nemesis/admin.js';
import { resetClocks, type ScheduledNemesis } from './nemesis/index.js';
import type { RunContext, Workload } from './types.js';

export const HEAL_TIMEOUT_MS = 10_000;

export interface FinalResult {
  /** A leader served a linearizable read within HEAL_TIMEOUT_MS of healing. */
  readonly healthy: boolean;
  readonly healMs: number;
  readonly leader: string | undefined;
  /** undefined: workload.final completed; else its error. */
  readonly workloadFinalError: string | undefined;
  /** The revision the hashes were taken at, and each member's HashKV there. */
  readonly hashRevision: number | undefined;
  readonly hashes: Record<string, { readonly revision: number; readonly hash: number; readonly compact_revision: number }>;
  readonly hashErrors: Record<string, string>;
  readonly exits: readonly ExitRecord[];
  readonly errors: readonly string[];
}

export interface FinalOptions {
  readonly nemeses: readonly ScheduledNemesis[];
  readonly workload: Workload | undefined;
  /** Exits of member processes so far (ProcessDb.exits). */
  readonly exits: () => readonly ExitRecord[];
  readonly workloadFinalTimeoutMs?: number;
}

export async function finalPhase(ctx: RunContext, opts: FinalOptions): Promise<FinalResult> {
  const { db, recorder } = ctx;
  const errors: string[] = [];
  for (const n of opts.nemeses) {
    try {
      await n.stop(ctx);
    } catch (e) {
      errors.push(`stop ${n.name}: ${errorText(e)}`);
    }
  }
  db.healLinks();
  const resumed: string[] = [];
  const restarted: string[] = [];
  for (const n of db.nodes) {
    const s = db.state(n.name);
    if (s === 'paused') {
      db.resume(n.name);
      resumed.push(n.name);
    } else if (s === 'killed') {
      try {
        await db.restart(n.name);
        restarted.push(n.name);
      } catch (e) {
        errors.push(`restart ${n.name}: ${errorText(e)}`);
      }
    }
  }
  await resetClocks(
    ctx,
    db.nodes.map((n) => n.name),
  );
  recorder.nemesis('heal', { resumed, restarted });

  const t0 = Date.now();
  const healthy = db.waitHealthy !== undefined ? await db.waitHealthy(HEAL_TIMEOUT_MS) : (await db.leader()) !== undefined;
  const healMs = Date.now() - t0;
  const leader = healthy ? await db.leader() : undefined;
  recorder.nemesis('healthy', { healthy, healMs, leader });
  if (!healthy) errors.push(`no leader served a linearizable read within ${HEAL_TIMEOUT_MS} ms of healing`);

  let workloadFinalError: string | undefined;
  if (opts.workload !== undefined) {
    const timeoutMs = opts.workloadFinalTimeoutMs ?? 60_000;
    const timer = AbortSignal.timeout(timeoutMs);
    try {
      await Promise.race([
        opts.workload.final(ctx),
        new Promise<never>((_, reject) => timer.addEventListener('abort', () => reject(new Error(`workload.final took over ${timeoutMs} ms`)), { once: true })),
      ]);
    } catch (e) {
      workloadFinalError = errorText(e);
      errors.push(`workload final: ${workloadFinalError}`);
    }
  }

  const { hashRevision, hashes, hashErrors } = await compareHashes(ctx);
  return { healthy, healMs, leader, workloadFinalError, hashRevision, hashes, hashErrors, exits: [...opts.exits()], errors };
}

/** HashKV of every running member at the leader's current revision. */
async function compareHashes(ctx: RunContext): Promise<Pick<FinalResult, 'hashRevision' | 'hashes' | 'hashErrors'>> {
  const hashes: FinalResult['hashes'] = {};
  const hashErrors: Record<string, string> = {};
  const up = ctx.db.nodes.filter((n) => ctx.db.state(n.name) === 'up');
  let revision: number | undefined;
  for (const n of up) {
    try {
      revision = (await ctx.client(n.name).range({ key: 'jepsen-lite/hash' }, { timeoutMs: 2000 })).header.revision;
      break;
    } catch {
      // try the next member
    }
  }
  if (revision === undefined) {
    for (const n of up) hashErrors[n.name] = 'no member served a linearizable read for the hash revision';
    return { hashRevision: undefined, hashes, hashErrors };
  }
  for (const n of up) {
    try {
      // Wait (bounded) until this member has applied `revision`.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await ctx.client(n.name).range({ key: 'jepsen-lite/hash', serializable: true }, { timeoutMs: 2000 });
        if (r.header.revision >= revision) break;
        if (Date.now() > deadline) throw new Error(`applied only revision ${r.header.revision} of ${revision} after 10 s`);
        await sleep(100);
      }
      const res = await gateway(n.clientUrl, 'maintenance/hashkv', { revision: String(revision) }, 10_000);
      hashes[n.name] = { revision, hash: Number(res['hash'] ?? 0), compact_revision: Number(res['compact_revision'] ?? 0) };
    } catch (e) {
      hashErrors[n.name] = errorText(e);
    }
  }
  ctx.recorder.nemesis('hashes', { revision, hashes, hashErrors });
  return { hashRevision: revision, hashes, hashErrors };
}
