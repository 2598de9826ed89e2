/**
 * partition (item 15), through the peer-link proxies: isolate the leader, random majority and
 * minority halves, majorities-ring (each member sees a majority, no two the same one; needs 5+),
 * a one-way cut, a 75 ± 50 ms delay on every link, or a 50 % drop on every link. stop() heals
 * every link. Held 3–8 s.
 */
import type { Prng } from '../../src/util/prng.js';
import type { Db, RunContext } from '../types.js';
import type { ScheduledNemesis } from './targets.js';

export type PartitionMode = 'isolate-leader' | 'halves' | 'majorities-ring' | 'one-way' | 'delay' | 'drop';
export const PARTITION_MODES: readonly PartitionMode[] = ['isolate-leader', 'halves', 'majorities-ring', 'one-way', 'delay', 'drop'];

/** Cuts both directions between every member of `a` and every member of `b`. */
function bipartite(a: readonly string[], b: readonly string[]): [string, string][] {
  const cuts: [string, string][] = [];
  for (const x of a) for (const y of b) cuts.push([x, y], [y, x]);
  return cuts;
}

/** Ring of the members in a random order; each keeps links to its neighbours within k. */
export function majoritiesRing(names: readonly string[], prng: Prng): [string, string][] {
  const ring = prng.shuffle([...names]);
  const n = ring.length;
  const majority = Math.floor(n / 2) + 1;
  const k = Math.ceil((majority - 1) / 2);
  const cuts: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const d = Math.min(Math.abs(i - j), n - Math.abs(i - j));
      if (d > k) cuts.push([ring[i] as string, ring[j] as string]);
    }
  }
  return cuts;
}

export class PartitionNemesis implements ScheduledNemesis {
  readonly name = 'partition';
  private active = false;

  constructor(
    private readonly prng: Prng,
    private readonly modes: readonly PartitionMode[] = PARTITION_MODES,
  ) {}

  holdMs(prng: Prng): number {
    return prng.range(3000, 8000);
  }

  private async plan(db: Db, mode: PartitionMode): Promise<{ cuts: [string, string][]; detail: Record<string, unknown> }> {
    const names = db.nodes.filter((n) => db.state(n.name) !== 'removed').map((n) => n.name);
    switch (mode) {
      case 'isolate-leader': {
        const leader = (await db.leader()) ?? this.prng.pick(names);
        return { cuts: bipartite([leader], names.filter((n) => n !== leader)), detail: { isolated: leader } };
      }
      case 'halves': {
        const shuffled = this.prng.shuffle([...names]);
        const k = Math.floor(shuffled.length / 2);
        const minority = shuffled.slice(0, k);
        const majority = shuffled.slice(k);
        return { cuts: bipartite(minority, majority), detail: { minority, majority } };
      }
      case 'majorities-ring':
        return { cuts: majoritiesRing(names, this.prng), detail: {} };
      case 'one-way': {
        const from = this.prng.pick(names);
        const others = names.filter((n) => n !== from);
        return { cuts: others.map((to) => [from, to] as [string, string]), detail: { from } };
      }
      case 'delay':
      case 'drop':
        return { cuts: [], detail: {} };
    }
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.active) return;
    let mode = this.prng.pick(this.modes);
    // A ring on fewer than 5 members cuts nothing (each sees everyone): use halves there.
    if (mode === 'majorities-ring' && ctx.db.nodes.length < 5) mode = 'halves';
    const { cuts, detail } = await this.plan(ctx.db, mode);
    const names = ctx.db.nodes.map((n) => n.name);
    const links: [string, string][] = [];
    for (const a of names) for (const b of names) if (a !== b) links.push([a, b]);
    if (mode === 'delay') {
      ctx.recorder.nemesis('start-partition', { mode, delayMs: 75, jitterMs: 50, links: 'all' });
      for (const [a, b] of links) ctx.db.delay(a, b, 75, 50);
    } else if (mode === 'drop') {
      ctx.recorder.nemesis('start-partition', { mode, fraction: 0.5, links: 'all' });
      for (const [a, b] of links) ctx.db.drop(a, b, 0.5);
    } else {
      ctx.recorder.nemesis('start-partition', { mode, ...detail, cuts });
      for (const [a, b] of cuts) ctx.db.cut(a, b);
    }
    this.active = true;
  }

  stop(ctx: RunContext): Promise<void> {
    if (!this.active) return Promise.resolve();
    this.active = false;
    ctx.db.healLinks();
    ctx.recorder.nemesis('stop-partition', {});
    return Promise.resolve();
  }
}
