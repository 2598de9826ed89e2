/**
 * Run the Raft simulation from the command line:
 *
 *   npm run sim -- --seeds 200                 # seeds 1..200
 *   npm run sim -- --seeds 1000 --start 5000   # seeds 5000..5999
 *   npm run sim -- --seed 42 --steps 5000 --verbose   # replay one seed, printing every event
 *
 * Prints progress and a summary line; exits 1 when any seed fails.
 */
import { parseArgs } from 'node:util';
import { describeParams } from './sim/sim-params.js';
import { SimFailure } from './sim/sim-failure.js';
import { runSimulation } from './sim/simulation.js';

const USAGE = 'usage: npm run sim -- [--seeds N] [--start S] [--steps M] [--seed X] [--verbose] [--stop-on-failure]';

function main(): number {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '100' },
      start: { type: 'string', default: '1' },
      steps: { type: 'string', default: '2000' },
      seed: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      'stop-on-failure': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const steps = positiveInt(values.steps, 'steps');
  const seeds: number[] = [];
  if (values.seed !== undefined) {
    seeds.push(nonNegativeInt(values.seed, 'seed'));
  } else {
    const start = nonNegativeInt(values.start, 'start');
    const count = positiveInt(values.seeds, 'seeds');
    for (let s = start; s < start + count; s++) seeds.push(s);
  }

  const began = performance.now();
  const failures: SimFailure[] = [];
  let totalSteps = 0;
  let lastProgress = began;
  for (const [i, seed] of seeds.entries()) {
    const verbose = values.verbose ? (line: string) => console.log(line) : undefined;
    try {
      const result = runSimulation({ seed, steps, ...(verbose !== undefined ? { verbose } : {}) });
      totalSteps += result.stats.steps;
      if (values.verbose || seeds.length === 1) {
        console.log(`SEED=${seed} ok: ${describeParams(result.params)}`);
        console.log(`  stats: ${JSON.stringify(result.stats)} hash=${result.traceHash.toString(16)}`);
      }
    } catch (err) {
      if (!(err instanceof SimFailure)) throw err;
      failures.push(err);
      totalSteps += err.step;
      console.log(values.verbose || seeds.length === 1 ? err.message : `FAIL ${err.headline}`);
      if (values['stop-on-failure']) break;
    }
    const t = performance.now();
    if (t - lastProgress > 2000 || i === seeds.length - 1) {
      lastProgress = t;
      console.log(`[${i + 1}/${seeds.length}] seeds done, ${failures.length} failed, ${((t - began) / 1000).toFixed(1)}s`);
    }
  }
  const elapsed = (performance.now() - began) / 1000;
  const failed = failures.map((f) => f.seed).join(',');
  console.log(
    `sim: ${seeds.length} seeds, ${totalSteps} steps, ${elapsed.toFixed(1)}s, ${failures.length} failed${failed === '' ? '' : ` (seeds ${failed})`}`,
  );
  for (const f of failures) console.log(`  ${f.headline}`);
  return failures.length === 0 ? 0 : 1;
}

function positiveInt(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`--${name} must be a positive integer, got ${s}`);
  return n;
}

function nonNegativeInt(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`--${name} must be an integer in [0, 2^32), got ${s}`);
  return n;
}

try {
  process.exitCode = main();
} catch (err) {
  // Bad flags (parseArgs and the checks above throw TypeError/RangeError with a clear message).
  if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
  console.error(`sim: ${err.message}`);
  console.error(USAGE);
  process.exitCode = 2;
}
