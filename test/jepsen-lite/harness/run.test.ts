/**
 * One short real run: 3 member processes, a kill nemesis on the single schedule, a tiny
 * register-like workload (written here so this test does not depend on workloads/ changing),
 * the final phase and the checkers. Afterwards every member process must be gone.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../../src/client/index.js';
import { readJsonl, type HistoryEvent } from '../../../jepsen-lite/history.js';
import { ProcessDb, sleep } from '../../../jepsen-lite/db.js';
import { runTest } from '../../../jepsen-lite/run.js';
import { Prng } from '../../../src/util/prng.js';
import type { RunConfig, RunContext, Workload } from '../../../jepsen-lite/types.js';

/** Writes unique values and reads them back on 3 keys, 3 threads; records every op. */
function tinyRegister(): Workload {
  let reads = 0;
  return {
    name: 'register',
    async run(ctx: RunContext): Promise<void> {
      let value = 0;
      const thread = async (t: number): Promise<void> => {
        let process = ctx.recorder.newProcess();
        const key = `k${t}`;
        // Bounded by the phase's end: each op takes a deadline of at most 1 s.
        while (!ctx.signal.aborted) {
          const node = ctx.prng.pick(ctx.db.nodes).name;
          const write = ctx.prng.chance(0.5);
          const v = ++value;
          ctx.recorder.client({ process, type: 'invoke', f: write ? 'write' : 'read', key, ...(write ? { value: v } : {}), node });
          try {
            if (write) {
              const r = await ctx.client(node).put({ key, value: String(v) }, { timeoutMs: 1000 });
              ctx.recorder.client({ process, type: 'ok', f: 'write', key, value: v, node, revision: r.header.revision, mod_revision: r.header.revision });
            } else {
              const r = await ctx.client(node).range({ key }, { timeoutMs: 1000 });
              const kv = r.kvs[0];
              ctx.recorder.client({ process, type: 'ok', f: 'read', key, value: kv ? Number(kv.value.toString()) : null, node, revision: r.header.revision, ...(kv ? { mod_revision: kv.modRevision, version: kv.version } : {}) });
            }
          } catch (e) {
            const definite = e instanceof ClientError && e.definite;
            ctx.recorder.client({ process, type: definite ? 'fail' : 'info', f: write ? 'write' : 'read', key, ...(write ? { value: v } : {}), node, error: e instanceof Error ? e.message : String(e) });
            if (!definite) process = ctx.recorder.newProcess();
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      await Promise.all([0, 1, 2].map(thread));
    },
    async final(ctx: RunContext): Promise<void> {
      for (const n of ctx.db.nodes) {
        const r = await ctx.client(n.name).range({ key: 'k0' }, { timeoutMs: 2000 });
        if (r.header.revision > 0) reads++;
      }
      expect(reads).toBe(ctx.db.nodes.length);
    },
  };
}

describe('jepsen-lite run (real member processes)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('runs 3 members under a kill nemesis, records history and nemesis events, and stops every member', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'jl-run-'));
    dirs.push(parent);
    const config: RunConfig = {
      workload: 'register',
      nemeses: ['kill'],
      schedule: 'single',
      nodes: 3,
      timeLimitS: 6,
      rate: 100,
      concurrency: 3,
      seed: 42,
      outDir: path.join(parent, 'run'),
      bugs: [],
      failpoints: [],
      memberFlags: [],
      electionMs: 1000,
    };
    const outcome = await runTest(config, { workload: tinyRegister(), keepData: true });
    const dir = outcome.runDir;
    for (const f of ['config.json', 'history.jsonl', 'final.json', 'results.json', 'summary.md', 'nodes/n1/log', 'nodes/n3/data/member/wal']) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    const saved = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as { seed: number; gitSha: string };
    expect(saved.seed).toBe(42);
    expect(saved.gitSha).toMatch(/^[0-9a-f]{40}|unknown/);

    const events = await readJsonl<HistoryEvent>(path.join(dir, 'history.jsonl'));
    events.forEach((e, i) => expect(e.index).toBe(i));
    for (let i = 1; i < events.length; i++) expect((events[i] as HistoryEvent).time_ns).toBeGreaterThanOrEqual((events[i - 1] as HistoryEvent).time_ns);
    const nemesis = events.filter((e) => e.process === 'nemesis').map((e) => e.f);
    expect(nemesis).toContain('start-kill');
    expect(nemesis).toContain('stop-kill');
    expect(nemesis).toContain('heal');
    expect(nemesis).toContain('hashes');
    const start = events.find((e) => e.f === 'start-kill');
    expect((start?.value as { targets: string[] }).targets.length).toBeGreaterThan(0);
    const oks = events.filter((e) => e.process !== 'nemesis' && e.type === 'ok');
    expect(oks.length).toBeGreaterThan(20);

    expect(outcome.final?.healthy).toBe(true);
    const hashes = Object.values(outcome.final?.hashes ?? {});
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1);
    expect(outcome.results.map((r) => r.checker)).toContain('health');
    expect(outcome.valid).toBe(true);

    // Every member process the run started is gone.
    expect(outcome.pids.length).toBeGreaterThanOrEqual(4);
    for (const pid of outcome.pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it('the proxies know each member by its source address, and isolating the leader moves leadership', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'jl-db-'));
    dirs.push(parent);
    const config = { workload: 'register', nemeses: ['partition'], schedule: 'single', nodes: 3, timeLimitS: 1, rate: 1, concurrency: 1, seed: 1, outDir: parent, bugs: [], failpoints: [], memberFlags: [], electionMs: 500 } as const satisfies RunConfig;
    const db = await ProcessDb.create(config, { runDir: parent, prng: new Prng(1) });
    try {
      await db.start();
      const conns = Object.values(db.proxyConnections()).flat();
      expect(conns.length).toBeGreaterThan(0);
      expect(conns.every((c) => c.from !== undefined)).toBe(true);
      const leader = await db.leader();
      expect(leader).toBeDefined();
      for (const n of db.nodes) {
        if (n.name === leader) continue;
        db.cut(leader as string, n.name);
        db.cut(n.name, leader as string);
      }
      let moved: string | undefined;
      // Bounded: 80 rounds of at least 100 ms.
      for (let i = 0; i < 80 && moved === undefined; i++) {
        await sleep(100);
        for (const n of db.nodes) {
          if (n.name === leader) continue;
          // A member that says it is the leader itself.
          const s = await db.memberClient(n.name).status(undefined, { timeoutMs: 500 }).catch(() => undefined);
          if (s !== undefined && s.leader === s.header.memberId) moved = n.name;
        }
      }
      expect(moved).toBeDefined();
      db.healLinks();
      expect(await db.waitHealthy(5000)).toBe(true);
    } finally {
      await db.stop();
    }
  }, 40_000);
});
