/** The nemeses by name (items 13–20), each with its own forked Prng. */
import type { Prng } from '../../src/util/prng.js';
import type { NemesisName } from '../types.js';
import { AdminNemesis } from './admin.js';
import { ClockNemesis } from './clock.js';
import { DiskNemesis } from './disk.js';
import { FailpointNemesis } from './failpoint.js';
import { KillNemesis } from './kill.js';
import { MemberNemesis } from './member.js';
import { PartitionNemesis } from './partition.js';
import { PauseNemesis } from './pause.js';
import type { ScheduledNemesis } from './targets.js';

export { type ScheduledNemesis } from './targets.js';
export { resetClocks } from './clock.js';

/** Nemeses that exist ('none' means no faults). */
export const NEMESES: readonly NemesisName[] = ['kill', 'kill-lossy', 'pause', 'partition', 'admin', 'member', 'clock', 'failpoint', 'disk'];

export function createNemesis(name: NemesisName, prng: Prng): ScheduledNemesis {
  switch (name) {
    case 'kill':
      return new KillNemesis(prng, false);
    case 'kill-lossy':
      return new KillNemesis(prng, true);
    case 'pause':
      return new PauseNemesis(prng);
    case 'partition':
      return new PartitionNemesis(prng);
    case 'admin':
      return new AdminNemesis(prng);
    case 'clock':
      return new ClockNemesis(prng);
    case 'failpoint':
      return new FailpointNemesis(prng);
    case 'disk':
      return new DiskNemesis(prng);
    case 'member':
      return new MemberNemesis(prng);
    case 'none':
      throw new Error('nemesis none cannot be scheduled');
  }
}
