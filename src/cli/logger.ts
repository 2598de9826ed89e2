import type { LogFields, Logger } from '../util/logger.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export function isLogLevel(s: string): s is LogLevel {
  return s in LEVELS;
}

/** JSON lines on stderr, like etcd's zap logger: {"level","ts","msg",...fields}. */
export function jsonLogger(level: LogLevel, component?: string): Logger {
  const min = LEVELS[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[lvl] < min) return;
    const line = { level: lvl, ts: new Date().toISOString(), ...(component ? { caller: component } : {}), msg, ...fields };
    process.stderr.write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
