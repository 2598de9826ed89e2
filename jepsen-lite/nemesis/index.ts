/** The nemeses by name (items 13–20), each with its own forked Prng. */
import type { Prng } from '../../src/util/prng.js';
import type { NemesisName } from '../types.js';
import { AdminNemesis } from './admin.js';
import { ClockNemesis } from './clock.js';
import { DiskNemesis } from './disk.js';
import { FailpointNemesis } from './failpoint.js';
import { KILL_MODES, KillNemesis } from './kill.js';
import { MemberNemesis } from './member.js';
import { PARTITION_MODES, PartitionNemesis, type PartitionMode } from './partition.js';
import { PAUSE_MODES, PauseNemesis } from './pause.js';
import type { ScheduledNemesis, TargetMode } from './targets.js';

export { type ScheduledNemesis } from './targets.js';
export { resetClocks } from './clock.js';

/** Nemeses that exist ('none' means no faults). */
export const NEMESES: readonly NemesisName[] = ['kill', 'kill-lossy', 'pause', 'partition', 'admin', 'member', 'clock', 'failpoint', 'disk'];

/** The modes a nemesis can be restricted to (RunConfig.nemesisModes). */
export const NEMESIS_MODES: Readonly<Partial<Record<NemesisName, readonly string[]>>> = {
  kill: KILL_MODES,
  'kill-lossy': KILL_MODES,
  pause: PAUSE_MODES,
  partition: PARTITION_MODES,
};

export function createNemesis(name: NemesisName, prng: Prng, modes?: readonly string[]): ScheduledNemesis {
  if (modes !== undefined) {
    const known = NEMESIS_MODES[name] ?? [];
    const bad = modes.filter((m) => !known.includes(m));
    if (bad.length > 0 || modes.length === 0) throw new Error(`nemesis ${name}: bad modes ${JSON.stringify(modes)} (known: ${known.join(', ') || 'none'})`);
  }
  switch (name) {
    case 'kill':
      return new KillNemesis(prng, false, modes as readonly TargetMode[] | undefined);
    case 'kill-lossy':
      return new KillNemesis(prng, true, modes as readonly TargetMode[] | undefined);
    case 'pause':
      return new PauseNemesis(prng, modes as readonly TargetMode[] | undefined);
    case 'partition':
      return new PartitionNemesis(prng, modes as readonly PartitionMode[] | undefined);
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
