/**
 * The simulation's faults, drawn from the seed: partitions, crashes (kill -9 and power loss, of
 * one member or all at once), clean restarts of one or all members, clock jumps, and membership
 * changes (a member added, and started at once, later or never; a member removed). Each fault is
 * a nemesis event in the history, and the time it was active a fault interval (the lease
 * checker's L4 allows for them).
 */
import type { Cluster } from './cluster.js';
import type { SimNode } from './sim-node.js';

const ACTIONS = ['partition', 'kill', 'power', 'power-all', 'restart', 'restart-all', 'clock', 'add', 'remove', 'reconfigure-restart'] as const;
type Action = (typeof ACTIONS)[number];

export class Nemesis {
  readonly faultIntervals: [number, number][] = [];
  /** The largest clock offset injected (ms), for the lease checker's L3. */
  maxClockOffsetMs = 0;
  private readonly pending = new Set<Promise<void>>();
  /** The action under way (for a report when one never ends). */
  current: string | undefined;

  constructor(
    private readonly c: Cluster,
    /** Relative weights of the actions this run draws from. */
    private readonly weights: Readonly<Record<Action, number>>,
  ) {}

  private get nowNs(): number {
    return this.c.history.timeNs;
  }

  /** Draws and starts faults, one every 0.5–3 s, until stop() says so. */
  async run(stop: () => boolean): Promise<void> {
    const { c } = this;
    for (let i = 0; i < 10_000 && !stop(); i++) {
      await c.sched.sleep(500 + c.prng.int(2500), c.owner);
      if (stop()) break;
      const a = this.draw();
      this.current = a;
      await this.act(a);
      this.current = undefined;
    }
  }

  private draw(): Action {
    const total = ACTIONS.reduce((s, a) => s + this.weights[a], 0);
    let x = this.c.prng.float() * total;
    for (const a of ACTIONS) {
      x -= this.weights[a];
      if (x < 0) return a;
    }
    return 'kill';
  }

  /** Something that finishes later (a heal, a restart); settled() waits for all of them. */
  private later(ms: number, fn: () => Promise<void>): void {
    const p = this.c.sched.sleep(ms, this.c.owner).then(fn);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async settled(): Promise<void> {
    for (let i = 0; i < 100 && this.pending.size > 0; i++) await Promise.all([...this.pending]);
  }

  private async act(a: Action): Promise<void> {
    const { c } = this;
    const up = c.up;
    const victim = up.length > 0 ? c.prng.pick(up) : undefined;
    switch (a) {
      case 'partition': {
        if (c.net.partitioned || up.length < 2) return;
        const names = c.prng.shuffle(c.nodes.map((n) => n.name));
        const cut = 1 + c.prng.int(Math.max(1, Math.floor(names.length / 2)));
        const [x, y] = [names.slice(0, cut), names.slice(cut)];
        c.net.partition(x, y);
        c.history.nemesis('start-partition', [x, y]);
        const start = this.nowNs;
        this.later(500 + c.prng.int(4000), async () => {
          c.net.heal();
          c.history.nemesis('stop-partition');
          await this.ended(start);
        });
        return;
      }
      case 'kill':
      case 'power':
        if (victim === undefined) return;
        this.crash([victim], a);
        return;
      case 'power-all':
        this.crash(up, 'power');
        return;
      case 'restart':
      case 'restart-all': {
        const targets = a === 'restart' ? (victim ? [victim] : []) : up;
        if (targets.length === 0) return;
        c.history.nemesis(a, targets.map((n) => n.name));
        const start = this.nowNs;
        await Promise.all(targets.map((n) => n.stop()));
        await Promise.all(targets.map((n) => c.restart(n)));
        await this.ended(start);
        return;
      }
      case 'clock': {
        if (victim === undefined) return;
        // A jump, then back after a while (as NTP would step it back): leases expire late or
        // early by up to the jump while it lasts, which the lease checker allows for.
        const jump = (c.prng.chance(0.5) ? -1 : 1) * (100 + c.prng.int(1900));
        victim.clockOffsetMs += jump;
        this.maxClockOffsetMs = Math.max(this.maxClockOffsetMs, Math.abs(victim.clockOffsetMs));
        c.history.nemesis('clock-jump', { node: victim.name, ms: jump });
        const start = this.nowNs;
        this.later(1000 + c.prng.int(2000), async () => {
          victim.clockOffsetMs -= jump;
          c.history.nemesis('clock-reset', { node: victim.name });
          await this.ended(start);
        });
        return;
      }
      case 'add':
        return this.add(victim);
      case 'remove':
        return this.remove(victim);
      case 'reconfigure-restart': {
        // The stale-configuration case: a membership change, then every member restarted
        // (killed or stopped) before a snapshot covers the change.
        if (c.members.size <= 3 || c.prng.chance(0.5)) await this.add(victim, 'never');
        else await this.remove(victim);
        await c.sched.sleep(100 + c.prng.int(900), c.owner);
        const all = c.up;
        if (c.prng.chance(0.5)) {
          this.crash(all, 'kill');
        } else {
          c.history.nemesis('restart-all', all.map((n) => n.name));
          const start = this.nowNs;
          await Promise.all(all.map((n) => n.stop()));
          await Promise.all(all.map((n) => c.restart(n)));
          await this.ended(start);
        }
        return;
      }
    }
  }

  /**
   * A fault that began at `start` is over: its interval lasts until a leader leads again (at
   * most 10 s more), since leases are only renewed and expired by a leader.
   */
  private async ended(start: number): Promise<void> {
    const { c } = this;
    for (let i = 0; i < 200 && !c.up.some((n) => n.server?.member.isRunning === true && n.server.member.parts.node.isLeader()); i++) {
      await c.sched.sleep(50, c.owner);
    }
    this.faultIntervals.push([start, this.nowNs]);
  }

  private crash(targets: readonly SimNode[], kind: 'kill' | 'power'): void {
    const { c } = this;
    if (targets.length === 0) return;
    for (const n of targets) n.crash(kind);
    c.history.nemesis(kind === 'kill' ? 'kill' : 'power-loss', targets.map((n) => n.name));
    const start = this.nowNs;
    this.later(200 + c.prng.int(3000), async () => {
      await Promise.all(targets.map((n) => c.restart(n)));
      c.history.nemesis('restart', targets.map((n) => n.name));
      await this.ended(start);
    });
  }

  /** Adds the next spare node as a voter; starts it now, later, or not before the end. */
  private async add(via: SimNode | undefined, start?: 'now' | 'later' | 'never'): Promise<void> {
    const { c } = this;
    const spare = c.nodes.find((n) => n.state === 'new' && !c.members.has(n.name));
    if (via?.server === undefined || spare === undefined || c.members.size >= 5) return;
    try {
      await via.server.memberAdd([spare.peerUrl], false);
    } catch (e) {
      c.history.nemesis('member-add-failed', { node: spare.name, error: String(e) });
      return;
    }
    c.members.add(spare.name);
    c.history.nemesis('member-add', spare.name);
    const when = start ?? c.prng.pick(['now', 'later', 'never'] as const);
    if (when === 'now') await c.restart(spare);
    else if (when === 'later') this.later(1000 + c.prng.int(5000), () => c.restart(spare));
  }

  /** Removes a member (one that was never started first), keeping at least three. */
  private async remove(via: SimNode | undefined): Promise<void> {
    const { c } = this;
    if (via?.server === undefined || c.members.size <= 3) return;
    const candidates = c.nodes.filter((n) => c.members.has(n.name));
    const target = candidates.find((n) => n.state === 'new') ?? c.prng.pick(candidates);
    let id: bigint | undefined;
    try {
      const list = await via.server.memberList(true);
      id = list.members.find((m) => m.peerURLs.includes(target.peerUrl))?.id;
      if (id === undefined) return;
      await via.server.memberRemove(id);
    } catch (e) {
      c.history.nemesis('member-remove-failed', { node: target.name, error: String(e) });
      return;
    }
    c.members.delete(target.name);
    c.history.nemesis('member-remove', target.name);
    if (target.state === 'new') target.state = 'removed';
  }
}
