/**
 * disk (item 17): kill a minority member, damage its newest WAL file — flip one bit in the
 * second half, or truncate it at a random offset — and restart it. The member must refuse to
 * start or repair the tail; it must never serve wrong data (the final phase compares state
 * hashes, the checkers the reads). From then on its own exits are expected (refusing is allowed).
 * Every disk fault of a run hits the same minority.
 */
import { open, readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import type { Prng } from '../../src/util/prng.js';
import type { RunContext } from '../types.js';
import { chooseTargets, type ScheduledNemesis } from './targets.js';

export class DiskNemesis implements ScheduledNemesis {
  readonly name = 'disk';
  private damaged: string[] = [];
  private victims: string[] | undefined;

  constructor(private readonly prng: Prng) {}

  holdMs(prng: Prng): number {
    return prng.range(2000, 5000);
  }

  async start(ctx: RunContext): Promise<void> {
    if (this.damaged.length > 0) return;
    // The same minority for the whole run: a member that refuses its damaged WAL stays down,
    // so damaging others later would take the quorum with it.
    this.victims ??= (await chooseTargets(ctx.db, this.prng, 'minority')).filter((n) => ctx.db.state(n) !== 'removed');
    const targets = this.victims.filter((n) => ctx.db.state(n) !== 'removed');
    ctx.recorder.nemesis('start-disk', { targets });
    this.damaged = targets;
    for (const n of targets) {
      await ctx.db.kill(n);
      ctx.db.expectCrash?.(n, true);
      const info = ctx.db.nodes.find((x) => x.name === n);
      if (info === undefined) continue;
      const damage = await this.damage(path.join(info.dataDir, 'member', 'wal'));
      ctx.recorder.nemesis('disk-damage', { node: n, ...damage });
      await ctx.db.restart(n);
    }
  }

  private async damage(walDir: string): Promise<Record<string, unknown>> {
    let names: string[];
    try {
      names = (await readdir(walDir)).filter((f) => f.endsWith('.wal')).sort();
    } catch {
      return { skipped: 'no wal dir' };
    }
    const last = names[names.length - 1];
    if (last === undefined) return { skipped: 'no wal file' };
    const file = path.join(walDir, last);
    const { size } = await stat(file);
    if (size < 2) return { skipped: 'empty wal file', file: last };
    if (this.prng.chance(0.5)) {
      const at = Math.floor(size / 2) + this.prng.int(Math.ceil(size / 2));
      const bit = this.prng.int(8);
      const fh = await open(file, 'r+');
      try {
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, at);
        b[0] = (b[0] as number) ^ (1 << bit);
        await fh.write(b, 0, 1, at);
      } finally {
        await fh.close();
      }
      return { file: last, kind: 'bitflip', offset: at, bit, size };
    }
    const to = this.prng.int(size);
    await truncate(file, to);
    return { file: last, kind: 'truncate', from: size, to };
  }

  async stop(ctx: RunContext): Promise<void> {
    const targets = this.damaged;
    if (targets.length === 0) return;
    this.damaged = [];
    // A member that refused its damaged WAL stays down, and refuses again when the final phase
    // restarts it: that is allowed for the rest of the run, so its exits stay expected.
    ctx.recorder.nemesis('stop-disk', { targets, running: targets.filter((n) => ctx.db.state(n) === 'up') });
  }
}
