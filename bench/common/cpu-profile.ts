/**
 * Reading the .cpuprofile files `node --cpu-prof` writes: the functions that spent the most
 * self time (time on top of the stack), for a quick look at where a member's CPU went.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, per sample. */
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  /** "name file:line" */
  readonly fn: string;
  readonly ms: number;
  /** Share of the sampled busy (non-idle) time, percent. */
  readonly pct: number;
}

/**
 * The n functions with the most self time; a function is its name and file:line. Samples in the
 * profile's first `skipMs` (start-up: module loading and compiling) are left out.
 */
export function topSelfTime(p: CpuProfile, n: number, skipMs = 0, by: 'function' | 'file' = 'function'): SelfTime[] {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  let totalMs = 0;
  let atMs = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    atMs += ms;
    if (atMs < skipMs) return;
    const f = byId.get(id)?.callFrame;
    // Idle time is the event loop waiting: not where CPU went.
    if (!f || f.functionName === '(idle)') return;
    totalMs += ms;
    const file = f.url === '' ? `(native) ${f.functionName}` : f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
    const key = by === 'file' ? file : `${f.functionName || '(anonymous)'} ${path.basename(f.url) || '(native)'}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + ms);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), pct: totalMs > 0 ? Math.round((1000 * ms) / totalMs) / 10 : 0 }));
}

/** topSelfTime for every .cpuprofile in dir, as printable text. */
export async function describeProfiles(dir: string, n: number, skipMs = 0): Promise<string> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  } catch {
    return `no profiles in ${dir}\n`;
  }
  let out = '';
  for (const f of files) {
    const p = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as CpuProfile;
    out += `\n${path.join(dir, f)}\n`;
    for (const t of topSelfTime(p, n, skipMs)) out += `${String(t.pct).padStart(5)}% ${String(t.ms).padStart(7)} ms  ${t.fn}\n`;
    out += `  by file:\n`;
    for (const t of topSelfTime(p, n, skipMs, 'file')) out += `${String(t.pct).padStart(5)}% ${String(t.ms).padStart(7)} ms  ${t.fn}\n`;
  }
  return out || `no profiles in ${dir}\n`;
}
