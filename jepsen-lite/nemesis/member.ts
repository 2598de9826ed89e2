/**
 * member (item 16): one membership change at a time, never below quorum —
 *   add:     MemberAdd as learner, start the process, promote once caught up;
 *   remove:  MemberRemove of a random member, then stop its process (only when the cluster has
 *            grown past its founding size, so it never shrinks below it);
 *   replace: remove a member, wipe its data dir, add it back (new member id, same slot), promote.
 * The change happens in start(); stop() records how it ended. Needs the process Db (db.ts).
 */
import type { Prng } from '../../src/util/prng.js';
import { ProcessDb } from '../db.js';
import type { RunContext } from '../types.js';
import { errorText } from './admin.js';
import type { ScheduledNemesis } from './targets.js';

export class MemberNemesis implements ScheduledNemesis {
  readonly name = 'member';
  private outcome: Record<string, unknown> | undefined;

  constructor(private readonly prng: Prng) {}

  holdMs(prng: Prng): number {
    return prng.range(2000, 5000);
  }

  async start(ctx: RunContext): Promise<void> {
    const db = ctx.db;
    if (!(db instanceof ProcessDb)) throw new Error('the member nemesis needs the process Db');
    if (this.outcome !== undefined) return;
    const members = db.memberNames();
    const down = members.filter((n) => db.state(n) !== 'up');
    if (down.length > 0) {
      // A change while a member is down could leave no quorum (and is not "one fault at a time").
      ctx.recorder.nemesis('start-member', { action: 'skip', reason: `not every member is up: ${down.join(', ')}` });
      this.outcome = { action: 'skip' };
      return;
    }
    const action = members.length > ctx.config.nodes ? 'remove' : this.prng.chance(0.5) && members.length < 9 ? 'add' : 'replace';
    const target = action === 'add' ? undefined : this.prng.pick(members);
    ctx.recorder.nemesis('start-member', { action, ...(target === undefined ? {} : { targets: [target] }) });
    const outcome: Record<string, unknown> = { action };
    try {
      if (action === 'add') {
        const name = await db.addLearner();
        outcome['targets'] = [name];
        await db.promote(name);
      } else if (action === 'remove') {
        await db.removeMember(target as string);
        outcome['targets'] = [target];
      } else {
        await db.removeMember(target as string);
        await db.addLearner(target);
        await db.promote(target as string);
        outcome['targets'] = [target];
      }
      outcome['ok'] = true;
    } catch (e) {
      outcome['ok'] = false;
      outcome['error'] = errorText(e);
    }
    this.outcome = outcome;
  }

  stop(ctx: RunContext): Promise<void> {
    const outcome = this.outcome;
    if (outcome === undefined) return Promise.resolve();
    this.outcome = undefined;
    ctx.recorder.nemesis('stop-member', outcome);
    return Promise.resolve();
  }
}
