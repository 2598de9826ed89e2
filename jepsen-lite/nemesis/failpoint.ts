/**
 * failpoint (item 20): arm one named failpoint (item 4a) on one member — `panic` mostly, else
 * `sleep(100..1000)` — through PUT /test/failpoints/<name>, and wait (up to the hold) for it to
 * fire. stop() disarms it if the member still runs, or restarts the member if the panic took it
 * down. While armed, the member's own exit is an expected one (the log says "failpoint fired").
 */
import { FAILPOINTS } from '../../src/util/test-hook-names.js';
import type { Prng } from '../../src/util/prng.js';
import type { RunContext } from '../types.js';
import { errorText } from './admin.js';
import { chooseTargets, type ScheduledNemesis } from './targets.js';

export class FailpointNemesis implements ScheduledNemesis {
  readonly name = 'failpoint';
  private armed: { node: string; failpoint: string } | undefined;

  constructor(private readonly prng: Prng) {}

  holdMs(prng: Prng): number {
    return prng.range(2000, 6000);
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.armed !== undefined) return;
    const [node] = (await chooseTargets(ctx.db, this.prng, this.prng.pick(['random', 'leader'] as const))).filter((n) => ctx.db.state(n) === 'up');
    if (node === undefined) return;
    const failpoint = this.prng.pick(FAILPOINTS);
    const action = this.prng.chance(0.7) ? 'panic' : `sleep(${this.prng.range(100, 1000)})`;
    ctx.recorder.nemesis('start-failpoint', { targets: [node], failpoint, action });
    ctx.db.expectCrash?.(node, true);
    this.armed = { node, failpoint };
    try {
      await ctx.db.testHook(node, `/test/failpoints/${failpoint}`, action);
    } catch (e) {
      ctx.recorder.nemesis('failpoint-error', { node, error: errorText(e) });
    }
  }

  async stop(ctx: RunContext): Promise<void> {
    const armed = this.armed;
    if (armed === undefined) return;
    this.armed = undefined;
    const { node, failpoint } = armed;
    const crashed = ctx.db.state(node) === 'killed';
    if (crashed) {
      await ctx.db.restart(node);
    } else if (ctx.db.state(node) === 'up') {
      try {
        await ctx.db.testHook(node, `/test/failpoints/${failpoint}`, 'off');
      } catch {
        // a failpoint that fires as it is disarmed; the final phase restarts the member
      }
    }
    ctx.db.expectCrash?.(node, false);
    ctx.recorder.nemesis('stop-failpoint', { targets: [node], failpoint, crashed });
  }
}
