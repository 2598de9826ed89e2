/**
 * clock (item 18): through each member's test clock (PUT /test/clock), jump some members' clocks
 * by ±10 ms … ±10 s (log-uniform), or strobe them (flip between 0 and an offset every 10–200 ms).
 * Lease expiry reads this clock; raft's ticks are intervals and do not move. stop() clears the
 * offsets of the members still running (a restarted member starts at offset 0). Held 3–8 s.
 */
import type { Prng } from '../../src/util/prng.js';
import type { RunContext } from '../types.js';
import { errorText } from './admin.js';
import { chooseTargets, type ScheduledNemesis } from './targets.js';

export class ClockNemesis implements ScheduledNemesis {
  readonly name = 'clock';
  private touched: string[] = [];

  constructor(private readonly prng: Prng) {}

  holdMs(prng: Prng): number {
    return prng.range(3000, 8000);
  }

  private offsetMs(): number {
    const magnitude = Math.round(10 ** (1 + this.prng.float() * 3));
    return this.prng.chance(0.5) ? magnitude : -magnitude;
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.touched.length > 0) return;
    const targets = (await chooseTargets(ctx.db, this.prng, this.prng.pick(['random', 'minority', 'all'] as const))).filter((n) => ctx.db.state(n) === 'up');
    const settings: Record<string, { offsetMs: number } | { strobeMs: number; periodMs: number }> = {};
    for (const n of targets) settings[n] = this.prng.chance(0.7) ? { offsetMs: this.offsetMs() } : { strobeMs: this.offsetMs(), periodMs: this.prng.range(10, 200) };
    ctx.recorder.nemesis('start-clock', { targets, settings });
    this.touched = targets;
    const errors: Record<string, string> = {};
    for (const n of targets) {
      try {
        await ctx.db.testHook(n, '/test/clock', JSON.stringify(settings[n]));
      } catch (e) {
        errors[n] = errorText(e);
      }
    }
    if (Object.keys(errors).length > 0) ctx.recorder.nemesis('clock-errors', errors);
  }

  async stop(ctx: RunContext): Promise<void> {
    const targets = this.touched;
    if (targets.length === 0) return;
    this.touched = [];
    await resetClocks(ctx, targets);
    ctx.recorder.nemesis('stop-clock', { targets });
  }
}

/** Offset 0 and no strobe on each running member of `targets`; errors are ignored (a member may be down). */
export async function resetClocks(ctx: RunContext, targets: readonly string[]): Promise<void> {
  for (const n of targets) {
    if (ctx.db.state(n) !== 'up') continue;
    try {
      await ctx.db.testHook(n, '/test/clock', JSON.stringify({ offsetMs: 0 }));
    } catch {
      // the member may be restarting; its clock starts at offset 0 anyway
    }
  }
}
