/** pause (item 14): SIGSTOP the leader, a random member or all; stop() sends SIGCONT. Held 1–10 s. */
import type { Prng } from '../../src/util/prng.js';
import type { RunContext } from '../types.js';
import { chooseTargets, type ScheduledNemesis, type TargetMode } from './targets.js';

export const PAUSE_MODES: readonly TargetMode[] = ['leader', 'random', 'all'];

export class PauseNemesis implements ScheduledNemesis {
  readonly name = 'pause';
  private paused: string[] = [];

  constructor(
    private readonly prng: Prng,
    private readonly modes: readonly TargetMode[] = PAUSE_MODES,
  ) {}

  holdMs(prng: Prng): number {
    return prng.range(1000, 10_000);
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.paused.length > 0) return;
    const mode = this.prng.pick(this.modes);
    const targets = (await chooseTargets(ctx.db, this.prng, mode)).filter((n) => ctx.db.state(n) === 'up');
    ctx.recorder.nemesis('start-pause', { mode, targets });
    if (targets.length === 0) {
      ctx.recorder.nemesis('stop-pause', { targets });
      return;
    }
    this.paused = targets;
    for (const n of targets) ctx.db.pause(n);
  }

  stop(ctx: RunContext): Promise<void> {
    const targets = this.paused;
    if (targets.length === 0) return Promise.resolve();
    this.paused = [];
    for (const n of targets) ctx.db.resume(n);
    ctx.recorder.nemesis('stop-pause', { targets });
    return Promise.resolve();
  }
}
