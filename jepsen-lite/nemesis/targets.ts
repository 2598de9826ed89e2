/**
 * Choosing the members a fault hits (item 13–15): a random one, the leader, a minority, all.
 * Every draw comes from the nemesis's Prng, so a seed repeats the choices (the leader itself
 * depends on timing).
 */
import type { Prng } from '../../src/util/prng.js';
import type { Db, Nemesis } from '../types.js';

export type TargetMode = 'random' | 'leader' | 'minority' | 'majority' | 'all';

export async function chooseTargets(db: Db, prng: Prng, mode: TargetMode): Promise<string[]> {
  const names = db.nodes.filter((n) => db.state(n.name) !== 'removed').map((n) => n.name);
  if (names.length === 0) return [];
  switch (mode) {
    case 'random':
      return [prng.pick(names)];
    case 'leader': {
      const leader = await db.leader();
      return [leader ?? prng.pick(names)];
    }
    case 'minority': {
      const k = Math.max(1, Math.floor((names.length - 1) / 2));
      return prng.shuffle([...names]).slice(0, k);
    }
    case 'majority': {
      const k = Math.floor(names.length / 2) + 1;
      return prng.shuffle([...names]).slice(0, k);
    }
    case 'all':
      return names;
  }
}

/** A nemesis the schedules can drive: how long to hold its fault before stop(). */
export interface ScheduledNemesis extends Nemesis {
  holdMs(prng: Prng): number;
}
