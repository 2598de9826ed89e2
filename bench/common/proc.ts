/**
 * CPU and memory of processes and threads, read from Linux /proc, for the benchmarks: the
 * servers' CPU by PID, a worker thread's own CPU, and the whole machine's busy time (to tell
 * how much of a figure's noise came from other work on a shared machine).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux USER_HZ: /proc reports CPU time in these ticks on every mainstream kernel. */
export const CLK_TCK = 100;

/** utime+stime of a process or thread (/proc/<pid>/stat, /proc/thread-self/stat), in seconds; undefined once it is gone. */
export function cpuSeconds(statFile: string): number | undefined {
  let s: string;
  try {
    s = readFileSync(statFile, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": utime is field 14, stime field 15 of the whole line.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds of the calling thread (NaN where /proc is missing). */
export function threadCpuSeconds(): number {
  return cpuSeconds('/proc/thread-self/stat') ?? NaN;
}

/** CPU seconds of process `pid`, all its threads (NaN once it is gone). */
export function pidCpuSeconds(pid: number): number {
  return cpuSeconds(`/proc/${pid}/stat`) ?? NaN;
}

/**
 * CPU seconds of each thread of process `pid`, summed by thread name (/proc/<pid>/task/<tid>/comm);
 * the main thread (tid = pid, where the event loop runs) is named "main".
 */
export function threadCpuByName(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const cpu = cpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    let name: string;
    try {
      name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (cpu !== undefined) out.set(name, (out.get(name) ?? 0) + cpu);
  }
  return out;
}

/** Busy seconds of the whole machine (all cores, every process), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident set size of process `pid` in MiB (NaN once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
