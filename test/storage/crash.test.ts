/**
 * Crash test: a child process (crash-child.ts) writes through raft, the WAL and the MVCC store
 * and prints each acknowledgement; we SIGKILL it at random moments and restart it on the same
 * data directory. After every few kills, a recovery run reports the state, and we check that
 * every acknowledged write is there and that no write is half there.
 *
 * CRASH_KILLS (default 200) sets the number of kills, spread over CRASH_LANES (default 4)
 * independent data directories run in parallel. CRASH_SEED fixes the kill timings.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { Prng } from '../../src/util/prng.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The child is bundled once (esbuild) so that each of the hundreds of restarts costs a plain
// `node` start-up rather than a TypeScript compile. The bundle sits inside the repository so
// that its package imports resolve to our node_modules.
const CHILD = path.join(HERE, '../../node_modules/.cache/tsetcd-test/crash-child.mjs');
const KILLS = Number(process.env['CRASH_KILLS'] ?? 200);
const LANES = Number(process.env['CRASH_LANES'] ?? 4);
const SEED = Number(process.env['CRASH_SEED'] ?? Date.now() % 1_000_000);
const VERIFY_EVERY = 10;

interface RunResult {
  acks: string[];
  lines: string[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Start the child; kill it `killAfterMs` after it is ready (or let it finish, in verify mode). */
function runChild(dir: string, runId: number, opts: { killAfterMs?: number; verify?: boolean }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const args = [CHILD, dir, String(runId), ...(opts.verify ? ['--verify'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: string[] = [];
    const lines: string[] = [];
    let stderr = '';
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    // A hard bound on every child, whatever happens.
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ACK ')) acks.push(line.slice(4));
        else lines.push(line);
        if (line === 'READY' && opts.killAfterMs !== undefined) {
          timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      // An ACK line cut by the kill was never fully written: it does not count.
      resolve({ acks, lines, stderr, code, signal });
    });
  });
}

async function lane(laneNo: number, kills: number, prng: Prng): Promise<{ acked: number; kills: number; verifies: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `tsetcd-crash-${laneNo}-`));
  const acked = new Set<string>();
  let verifies = 0;
  try {
    const verifyNow = async (runId: number): Promise<void> => {
      const r = await runChild(dir, runId, { verify: true });
      expect(r.code, `verify run failed: ${r.stderr}`).toBe(0);
      const stateLine = r.lines.find((l) => l.startsWith('STATE '));
      expect(stateLine, r.stderr).toBeDefined();
      const state = JSON.parse((stateLine as string).slice(6)) as { a: string[]; b: string[]; rev: number; reapplied: string[] };
      const a = new Set(state.a);
      const b = new Set(state.b);
      const lost = [...acked].filter((id) => !a.has(id) || !b.has(id));
      expect(lost, `lane ${laneNo} (CRASH_SEED=${SEED}): acknowledged writes lost`).toEqual([]);
      const half = [...a].filter((id) => !b.has(id)).concat([...b].filter((id) => !a.has(id)));
      expect(half, `lane ${laneNo} (CRASH_SEED=${SEED}): half-applied writes`).toEqual([]);
      // Each write is one txn, applied once: one revision each, on top of the initial revision 1.
      expect(state.reapplied, `lane ${laneNo} (CRASH_SEED=${SEED}): writes applied twice`).toEqual([]);
      expect(state.rev, `lane ${laneNo} (CRASH_SEED=${SEED}): revisions do not match writes`).toBe(1 + a.size);
      verifies++;
    };
    for (let k = 1; k <= kills; k++) {
      const runId = laneNo * 100_000 + k;
      // Mostly short lives (kills land during start-up, recovery and the first writes), some long.
      const killAfterMs = prng.chance(0.3) ? prng.range(0, 10) : prng.range(10, 400);
      const r = await runChild(dir, runId, { killAfterMs });
      expect(r.signal, `lane ${laneNo} run ${runId} exited by itself (code ${r.code}): ${r.stderr}`).toBe('SIGKILL');
      for (const id of r.acks) acked.add(id);
      if (k % VERIFY_EVERY === 0 || k === kills) await verifyNow(laneNo * 100_000 + 90_000 + k);
    }
    return { acked: acked.size, kills, verifies };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  await build({
    entryPoints: [path.join(HERE, 'crash-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: CHILD,
    logLevel: 'warning',
  });
});

describe('crash safety: SIGKILL during writes through raft, WAL and MVCC', () => {
  it(`loses no acknowledged write and applies none by halves over ${KILLS} kills (CRASH_SEED=${SEED})`, async () => {
    const prng = new Prng(SEED);
    const perLane = Math.ceil(KILLS / LANES);
    const results = await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i + 1, perLane, prng.fork())));
    const total = results.reduce((s, r) => ({ acked: s.acked + r.acked, kills: s.kills + r.kills, verifies: s.verifies + r.verifies }), {
      acked: 0,
      kills: 0,
      verifies: 0,
    });
    console.log(`crash test: ${total.kills} kills, ${total.acked} acknowledged writes, ${total.verifies} recoveries checked (CRASH_SEED=${SEED})`);
    expect(total.kills).toBeGreaterThanOrEqual(KILLS);
    // The test must have exercised real writes, not just start-ups.
    expect(total.acked).toBeGreaterThan(total.kills);
  }, 600_000);
});
