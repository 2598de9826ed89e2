import { describe, expect, it } from 'vitest';
import { Prng } from '../../../src/util/prng.js';
import type { NemesisEvent } from '../../../jepsen-lite/history.js';
import { createNemesis } from '../../../jepsen-lite/nemesis/index.js';
import { majoritiesRing } from '../../../jepsen-lite/nemesis/partition.js';
import type { Db, NodeInfo, NodeState, RunConfig, RunContext } from '../../../jepsen-lite/types.js';

/** A Db that only remembers what was done to it. */
function fakeDb(n: number): Db & { log: string[]; states: Map<string, NodeState> } {
  const nodes: NodeInfo[] = Array.from({ length: n }, (_, i) => ({
    name: `n${i + 1}`,
    clientUrl: '',
    advertisedPeerUrl: '',
    peerListenUrl: '',
    sourceAddress: `127.0.0.${11 + i}`,
    dataDir: '',
    logFile: '',
  }));
  const states = new Map<string, NodeState>(nodes.map((x) => [x.name, 'up']));
  const log: string[] = [];
  return {
    nodes,
    log,
    states,
    state: (name) => states.get(name) ?? 'removed',
    start: () => Promise.resolve(),
    kill: (name) => (states.set(name, 'killed'), log.push(`kill ${name}`), Promise.resolve()),
    loseUnsyncedWrites: (name) => (log.push(`lose ${name}`), Promise.resolve({ truncated: {}, removed: [] })),
    restart: (name) => (states.set(name, 'up'), log.push(`restart ${name}`), Promise.resolve()),
    pause: (name) => void (states.set(name, 'paused'), log.push(`pause ${name}`)),
    resume: (name) => void (states.set(name, 'up'), log.push(`resume ${name}`)),
    leader: () => Promise.resolve('n1'),
    cut: (a, b) => void log.push(`cut ${a}>${b}`),
    delay: (a, b) => void log.push(`delay ${a}>${b}`),
    drop: (a, b) => void log.push(`drop ${a}>${b}`),
    healLinks: () => void log.push('heal'),
    testHook: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

function fakeCtx(db: Db): RunContext & { events: NemesisEvent[] } {
  const events: NemesisEvent[] = [];
  return {
    events,
    config: { nodes: db.nodes.length } as RunConfig,
    db,
    prng: new Prng(1),
    signal: new AbortController().signal,
    client: () => {
      throw new Error('no clients here');
    },
    recorder: {
      now: () => 0,
      client: () => {
        throw new Error('unused');
      },
      nemesis: (f, value) => {
        const e: NemesisEvent = { index: events.length, time_ns: 0, process: 'nemesis', type: 'info', f, value };
        events.push(e);
        return e;
      },
      watch: () => undefined,
      newProcess: () => 0,
    },
  };
}

describe('nemeses', () => {
  it('majorities-ring on 5 members: each keeps links to exactly 2 others, symmetric', () => {
    const cuts = majoritiesRing(['n1', 'n2', 'n3', 'n4', 'n5'], new Prng(3));
    expect(cuts).toHaveLength(10);
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5']) expect(cuts.filter(([a]) => a === n)).toHaveLength(2);
    for (const [a, b] of cuts) expect(cuts.some(([x, y]) => x === b && y === a)).toBe(true);
  });

  it('kill-lossy kills, loses unsynced writes, restarts, and records start/stop with targets', async () => {
    const db = fakeDb(3);
    const ctx = fakeCtx(db);
    const n = createNemesis('kill-lossy', new Prng(7));
    await n.start(ctx);
    const start = ctx.events[0];
    expect(start?.f).toBe('start-kill-lossy');
    const targets = (start?.value as { targets: string[] }).targets;
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(db.states.get(t)).toBe('killed');
    expect(db.log.filter((l) => l.startsWith('lose'))).toHaveLength(targets.length);
    await n.stop(ctx);
    await n.stop(ctx);
    for (const t of targets) expect(db.states.get(t)).toBe('up');
    expect(ctx.events.map((e) => e.f)).toEqual(['start-kill-lossy', ...targets.map(() => 'lose-unsynced-writes'), 'stop-kill-lossy']);
  });

  it('partition cuts links then heals; pause pauses and resumes', async () => {
    for (let seed = 0; seed < 6; seed++) {
      const db = fakeDb(3);
      const ctx = fakeCtx(db);
      const p = createNemesis('partition', new Prng(seed));
      await p.start(ctx);
      expect(db.log.length).toBeGreaterThan(0);
      await p.stop(ctx);
      expect(db.log[db.log.length - 1]).toBe('heal');
      expect(ctx.events.map((e) => e.f)).toEqual(['start-partition', 'stop-partition']);
    }
    const db = fakeDb(3);
    const ctx = fakeCtx(db);
    const pause = createNemesis('pause', new Prng(2));
    await pause.start(ctx);
    const paused = [...db.states].filter(([, s]) => s === 'paused').map(([n]) => n);
    expect(paused.length).toBeGreaterThan(0);
    await pause.stop(ctx);
    expect([...db.states.values()].every((s) => s === 'up')).toBe(true);
  });
});

describe('nemesis specs on the command line', () => {
  it('parses name:mode+mode and refuses unknown names and modes', async () => {
    const { parseNemeses } = await import('../../../jepsen-lite/cli.js');
    expect(parseNemeses('kill-lossy:all,partition:isolate-leader+halves,admin')).toEqual({
      nemeses: ['kill-lossy', 'partition', 'admin'],
      modes: { 'kill-lossy': ['all'], partition: ['isolate-leader', 'halves'] },
    });
    expect(parseNemeses('')).toEqual({ nemeses: ['none'], modes: {} });
    expect(() => parseNemeses('kill:sideways')).toThrow(/no mode/);
    expect(() => parseNemeses('flood')).toThrow(/unknown nemesis/);
  });

  it('a kill restricted to all kills every member', async () => {
    const db = fakeDb(3);
    const ctx = fakeCtx(db);
    const n = createNemesis('kill', new Prng(1), ['all']);
    await n.start(ctx);
    expect([...db.states.values()].every((s) => s === 'killed')).toBe(true);
    await n.stop(ctx);
  });
});
