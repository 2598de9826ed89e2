/**
 * kill and kill-lossy (item 13): SIGKILL members (random, leader, minority or all), and for
 * kill-lossy also cut their WAL and snapshot files back to the last fsync (the fs shim's record),
 * as a power loss would; stop() restarts them on the same data dir. The schedule holds the fault
 * 0–5 s.
 */
import type { Prng } from '../../src/util/prng.js';
import type { RunContext } from '../types.js';
import { chooseTargets, type ScheduledNemesis, type TargetMode } from './targets.js';

export const KILL_MODES: readonly TargetMode[] = ['random', 'leader', 'minority', 'all'];

export class KillNemesis implements ScheduledNemesis {
  readonly name: 'kill' | 'kill-lossy';
  private killed: string[] = [];
  private readonly modes: readonly TargetMode[];

  constructor(
    private readonly prng: Prng,
    private readonly lossy: boolean,
    modes?: readonly TargetMode[],
  ) {
    this.modes = modes ?? KILL_MODES;
    this.name = lossy ? 'kill-lossy' : 'kill';
  }

  holdMs(prng: Prng): number {
    return prng.range(0, 5000);
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.killed.length > 0) return;
    const mode = this.prng.pick(this.modes);
    const targets = (await chooseTargets(ctx.db, this.prng, mode)).filter((n) => ctx.db.state(n) !== 'killed');
    ctx.recorder.nemesis(`start-${this.name}`, { mode, targets });
    if (targets.length === 0) {
      // Every candidate was already down: nothing to do, and nothing left open.
      ctx.recorder.nemesis(`stop-${this.name}`, { targets });
      return;
    }
    this.killed = targets;
    await Promise.all(targets.map((n) => ctx.db.kill(n)));
    if (this.lossy) {
      for (const n of targets) ctx.recorder.nemesis('lose-unsynced-writes', { node: n, ...(await ctx.db.loseUnsyncedWrites(n)) });
    }
  }

  async stop(ctx: RunContext): Promise<void> {
    const targets = this.killed;
    if (targets.length === 0) return;
    this.killed = [];
    for (const n of targets) if (ctx.db.state(n) === 'killed') await ctx.db.restart(n);
    ctx.recorder.nemesis(`stop-${this.name}`, { targets });
  }
}
