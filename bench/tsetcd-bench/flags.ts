/**
 * tsetcd-bench's command line: the sub-commands, flag names and defaults of etcd's benchmark
 * tool (tools/benchmark), so that `benchmark put --clients=100 --total=100000` and
 * `tsetcd-bench put --clients=100 --total=100000` run the same load. Flags are cobra-style:
 * `--flag value` or `--flag=value`, booleans as `--flag` or `--flag=true|false`, global flags
 * before or after the sub-command.
 *
 * Differences from etcd, all additions: --workers, --json, --server-pids, --request-timeout,
 * --deadline (global); --val-size on watch (the size of the timed value; etcd puts 8 bytes).
 * `watch-latency` takes etcd 3.5's --streams/--watchers-per-stream/--put-total and, as 3.4
 * did, --total as another name for --put-total.
 */
import os from 'node:os';

type Kind = 'int' | 'string' | 'bool' | 'list';
type Value = number | string | boolean | string[];

interface FlagSpec {
  readonly kind: Kind;
  readonly def: Value;
  readonly help: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** Another name for this flag. */
  readonly alias?: string;
}

const MAX_TOTAL = 100_000_000;
const int = (def: number, help: string, min = 0, max = MAX_TOTAL): FlagSpec => ({ kind: 'int', def, help, min, max });
const bool = (help: string): FlagSpec => ({ kind: 'bool', def: false, help });
const str = (def: string, help: string, choices?: readonly string[]): FlagSpec => ({ kind: 'string', def, help, ...(choices ? { choices } : {}) });

function globalSpecs(cores: number): Record<string, FlagSpec> {
  return {
    endpoints: { kind: 'list', def: ['127.0.0.1:2379'], help: 'gRPC endpoints' },
    conns: int(1, 'Total number of gRPC connections', 1, 100_000),
    clients: int(1, 'Total number of gRPC clients', 1, 1_000_000),
    precise: bool('use full floating point precision'),
    'target-leader': bool('connect only to the leader node'),
    workers: int(cores, 'generator worker threads, each with its own connections (tsetcd-bench)', 1, 256),
    json: bool('print a machine-readable summary instead of the text report (tsetcd-bench)'),
    'server-pids': { kind: 'list', def: [], help: 'PIDs whose CPU (/proc/<pid>/stat) to report beside the figures (tsetcd-bench)' },
    'request-timeout': int(30, 'deadline of each request in seconds (tsetcd-bench; etcd has none)', 1, 3600),
    deadline: int(3600, 'stop the run after this many seconds (tsetcd-bench)', 1, 86_400),
  };
}

const COMMANDS: Record<string, { readonly usage: string; readonly short: string; readonly flags: Record<string, FlagSpec> }> = {
  put: {
    usage: 'put',
    short: 'Benchmark put',
    flags: {
      'key-size': int(8, 'Key size of put request', 1, 1 << 20),
      'val-size': int(8, 'Value size of put request', 0, 1 << 24),
      rate: int(0, 'Maximum puts per second (0 is no limit)'),
      total: int(10000, 'Total number of put requests', 1),
      'key-space-size': int(1, 'Maximum possible keys', 1),
      'sequential-keys': bool('Use sequential keys'),
    },
  },
  range: {
    usage: 'range key [end-range]',
    short: 'Benchmark range',
    flags: {
      rate: int(0, 'Maximum range requests per second (0 is no limit)'),
      total: int(10000, 'Total number of range requests', 1),
      consistency: str('l', 'Linearizable(l) or Serializable(s)', ['l', 's']),
      limit: int(0, 'Maximum number of results to return from range request (0 is no limit)'),
    },
  },
  'txn-put': {
    usage: 'txn-put',
    short: 'Benchmark txn-put',
    flags: {
      'key-size': int(8, 'Key size of txn put', 1, 1 << 20),
      'val-size': int(8, 'Value size of txn put', 0, 1 << 24),
      'txn-ops': int(1, 'Number of puts per txn', 1, 10_000),
      rate: int(0, 'Maximum txns per second (0 is no limit)'),
      total: int(10000, 'Total number of txn requests', 1),
      'key-space-size': int(1, 'Maximum possible keys', 1),
    },
  },
  'lease-keepalive': {
    usage: 'lease-keepalive',
    short: 'Benchmark lease keepalive',
    flags: { total: int(10000, 'Total number of lease keepalive requests', 1) },
  },
  watch: {
    usage: 'watch',
    short: 'Benchmark watch',
    flags: {
      streams: int(10, 'Total watch streams', 1, 1_000_000),
      'watch-per-stream': int(100, 'Total watchers per stream', 1, 10_000_000),
      'watched-key-total': int(1, 'Total number of keys to be watched', 1, 10_000_000),
      'put-rate': int(0, 'Number of keys to put per second'),
      'put-total': int(1000, 'Number of put requests', 1),
      'key-size': int(32, 'Key size of watch request', 1, 1 << 20),
      'key-space-size': int(1, 'Maximum possible keys', 1),
      'sequential-keys': bool('Use sequential keys'),
      'val-size': int(8, 'Value size of each put; it carries the send time (tsetcd-bench)', 8, 1 << 24),
    },
  },
  'watch-latency': {
    usage: 'watch-latency',
    short: 'Benchmark watch latency',
    flags: {
      'put-total': { ...int(1000, 'Total number of put requests', 1), alias: 'total' },
      'put-rate': int(100, 'Number of keys to put per second', 1),
      'key-size': int(32, 'Key size of watch response', 1, 1 << 20),
      'val-size': int(32, 'Value size of watch response (at least 8: it carries the send time)', 8, 1 << 24),
      streams: int(10, 'Total watch streams', 1, 1_000_000),
      'watchers-per-stream': int(10, 'Total watchers per stream', 1, 10_000_000),
      prevkv: bool('PrevKV enabled on watch requests'),
    },
  },
  stm: {
    usage: 'stm',
    short: 'Benchmark STM',
    flags: {
      isolation: str('r', 'Read Committed (c), Repeatable Reads (r), Serializable (s), or Snapshot (ss)', ['c', 'r', 's', 'ss']),
      keys: int(1, 'Total unique keys accessible by the benchmark', 1),
      total: int(10000, 'Total number of completed STM transactions', 1),
      'keys-per-txn': int(1, 'Number of keys to access per transaction', 0, 10_000),
      'txn-wr-percent': int(50, 'Percentage of keys to overwrite per transaction', 0, 100),
      'stm-locker': str('stm', 'Wrap STM transaction with a custom locking mechanism (stm, lock-client, lock-rpc)', ['stm', 'lock-client', 'lock-rpc']),
      'val-size': int(8, 'Value size of each STM put request', 0, 1 << 24),
      rate: int(0, 'Maximum STM transactions per second (0 is no limit)'),
    },
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

export interface GlobalOptions {
  readonly endpoints: string[];
  readonly conns: number;
  readonly clients: number;
  readonly precise: boolean;
  readonly targetLeader: boolean;
  readonly workers: number;
  readonly json: boolean;
  readonly serverPids: number[];
  readonly requestTimeoutMs: number;
  readonly deadlineSeconds: number;
}

export type Isolation = 'c' | 'r' | 's' | 'ss';

export type Command =
  | { readonly name: 'put'; readonly total: number; readonly keySize: number; readonly valSize: number; readonly rate: number; readonly keySpaceSize: number; readonly sequentialKeys: boolean }
  | { readonly name: 'range'; readonly key: string; readonly end: string; readonly consistency: 'l' | 's'; readonly total: number; readonly rate: number; readonly limit: number }
  | { readonly name: 'txn-put'; readonly total: number; readonly keySize: number; readonly valSize: number; readonly txnOps: number; readonly rate: number; readonly keySpaceSize: number }
  | { readonly name: 'lease-keepalive'; readonly total: number }
  | {
      readonly name: 'watch';
      readonly streams: number;
      readonly watchPerStream: number;
      readonly watchedKeyTotal: number;
      readonly putRate: number;
      readonly putTotal: number;
      readonly keySize: number;
      readonly keySpaceSize: number;
      readonly sequentialKeys: boolean;
      readonly valSize: number;
    }
  | { readonly name: 'watch-latency'; readonly putTotal: number; readonly putRate: number; readonly keySize: number; readonly valSize: number; readonly streams: number; readonly watchersPerStream: number; readonly prevKv: boolean }
  | {
      readonly name: 'stm';
      readonly isolation: Isolation;
      readonly keys: number;
      readonly total: number;
      readonly keysPerTxn: number;
      readonly txnWrPercent: number;
      readonly locker: 'stm' | 'lock-client' | 'lock-rpc';
      readonly valSize: number;
      readonly rate: number;
    };

export interface Config {
  readonly global: GlobalOptions;
  readonly command: Command;
}

export type ParseResult = { readonly config: Config } | { readonly help: string };

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bytes binary.PutVarint (zig-zag, then 7 bits a byte) needs for n >= 0. */
export function varintLength(n: number): number {
  let u = 2 * n;
  let len = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    len++;
  }
  return len;
}

function parseValue(name: string, spec: FlagSpec, raw: string): Value {
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`invalid argument "${raw}" for "--${name}" flag: not an integer`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0) || n > (spec.max ?? MAX_TOTAL)) {
        throw new UsageError(`--${name} must be in [${spec.min ?? 0}, ${spec.max ?? MAX_TOTAL}], got ${raw}`);
      }
      return n;
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`invalid argument "${raw}" for "--${name}" flag: want true or false`);
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
  }
}

export function usage(cores = os.cpus().length, command?: string): string {
  const lines: string[] = [];
  const flagLines = (specs: Record<string, FlagSpec>): void => {
    for (const [name, s] of Object.entries(specs)) {
      const def = Array.isArray(s.def) ? s.def.join(',') : String(s.def);
      lines.push(`      --${name}${s.alias ? `, --${s.alias}` : ''}${s.kind === 'bool' ? '' : ' ' + s.kind}\t${s.help} (default ${def === '' ? '""' : def})`);
    }
  };
  const c = command === undefined ? undefined : COMMANDS[command];
  if (c) {
    lines.push(`${c.short}`, '', 'Usage:', `  tsetcd-bench ${c.usage} [flags]`, '', 'Flags:');
    flagLines(c.flags);
  } else {
    lines.push('A low-level benchmark tool for etcd3-compatible servers, with the commands and flags of etcd\'s benchmark.', '', 'Usage:', '  tsetcd-bench [command] [flags]', '', 'Available Commands:');
    for (const [name, spec] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(16)}${spec.short}`);
  }
  lines.push('', 'Global Flags:');
  flagLines(globalSpecs(cores));
  return lines.join('\n') + '\n';
}

/** Parses argv (without node and the script). Throws UsageError on a bad command line. */
export function parseCommandLine(argv: readonly string[], cores = os.cpus().length): ParseResult {
  const globals = globalSpecs(cores);
  const positional: string[] = [];
  const given = new Map<string, string>();
  let help = false;
  // First pass: find the sub-command, so its flags are known wherever they appear.
  const commandName = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && isValueOf(argv, i, globals)));
  const cmd = commandName === undefined ? undefined : COMMANDS[commandName];
  if (commandName !== undefined && !cmd) throw new UsageError(`unknown command "${commandName}" for "tsetcd-bench"`);
  const local = cmd?.flags ?? {};
  const lookup = (name: string): { name: string; spec: FlagSpec } | undefined => {
    if (globals[name]) return { name, spec: globals[name] };
    if (local[name]) return { name, spec: local[name] };
    for (const [n, s] of Object.entries(local)) if (s.alias === name) return { name: n, spec: s };
    return undefined;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-h' || a === '--help') {
      help = true;
      continue;
    }
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const rawName = eq >= 0 ? body.slice(0, eq) : body;
    const f = lookup(rawName);
    if (!f) throw new UsageError(`unknown flag: --${rawName}${cmd ? ` for "${commandName}"` : ''}`);
    let raw: string;
    if (eq >= 0) raw = body.slice(eq + 1);
    else if (f.spec.kind === 'bool') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: --${rawName}`);
      raw = next;
      i++;
    }
    given.set(f.name, raw);
  }
  if (help || !cmd) return { help: usage(cores, cmd ? commandName : undefined) };
  const values = new Map<string, Value>();
  for (const [name, spec] of [...Object.entries(globals), ...Object.entries(local)]) {
    const raw = given.get(name);
    values.set(name, raw === undefined ? spec.def : parseValue(name, spec, raw));
  }
  const n = (name: string): number => values.get(name) as number;
  const s = (name: string): string => values.get(name) as string;
  const b = (name: string): boolean => values.get(name) as boolean;
  const l = (name: string): string[] => values.get(name) as string[];

  const endpoints = l('endpoints');
  if (endpoints.length === 0) throw new UsageError('--endpoints must name at least one endpoint');
  const serverPids = l('server-pids').map((p) => {
    const pid = Number(p);
    if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--server-pids: not a PID: ${p}`);
    return pid;
  });
  const global: GlobalOptions = {
    endpoints,
    conns: n('conns'),
    clients: n('clients'),
    precise: b('precise'),
    targetLeader: b('target-leader'),
    workers: n('workers'),
    json: b('json'),
    serverPids,
    requestTimeoutMs: n('request-timeout') * 1000,
    deadlineSeconds: n('deadline'),
  };
  const args = positional.filter((p) => p !== commandName);
  if (commandName !== 'range' && args.length > 0) throw new UsageError(`"${commandName}" takes no arguments, got ${args.join(' ')}`);
  const keyFits = (keySize: number, keySpaceSize: number, flag = '--key-size'): void => {
    const need = varintLength(keySpaceSize - 1);
    if (keySize < need) throw new UsageError(`${flag} ${keySize} cannot hold key numbers up to ${keySpaceSize - 1} (needs ${need} bytes)`);
  };
  let command: Command;
  switch (commandName) {
    case 'put':
      keyFits(n('key-size'), n('key-space-size'));
      command = { name: 'put', total: n('total'), keySize: n('key-size'), valSize: n('val-size'), rate: n('rate'), keySpaceSize: n('key-space-size'), sequentialKeys: b('sequential-keys') };
      break;
    case 'range':
      if (args.length < 1 || args.length > 2) throw new UsageError('usage: tsetcd-bench range key [end-range]');
      command = { name: 'range', key: args[0] as string, end: args[1] ?? '', consistency: s('consistency') as 'l' | 's', total: n('total'), rate: n('rate'), limit: n('limit') };
      break;
    case 'txn-put':
      keyFits(n('key-size'), n('key-space-size'));
      command = { name: 'txn-put', total: n('total'), keySize: n('key-size'), valSize: n('val-size'), txnOps: n('txn-ops'), rate: n('rate'), keySpaceSize: n('key-space-size') };
      break;
    case 'lease-keepalive':
      command = { name: 'lease-keepalive', total: n('total') };
      break;
    case 'watch':
      keyFits(n('key-size'), n('key-space-size'));
      command = {
        name: 'watch',
        streams: n('streams'),
        watchPerStream: n('watch-per-stream'),
        watchedKeyTotal: n('watched-key-total'),
        putRate: n('put-rate'),
        putTotal: n('put-total'),
        keySize: n('key-size'),
        keySpaceSize: n('key-space-size'),
        sequentialKeys: b('sequential-keys'),
        valSize: n('val-size'),
      };
      break;
    case 'watch-latency':
      command = {
        name: 'watch-latency',
        putTotal: n('put-total'),
        putRate: n('put-rate'),
        keySize: n('key-size'),
        valSize: n('val-size'),
        streams: n('streams'),
        watchersPerStream: n('watchers-per-stream'),
        prevKv: b('prevkv'),
      };
      break;
    case 'stm': {
      if (n('keys-per-txn') > n('keys')) throw new UsageError(`expected --keys-per-txn between 0 and ${n('keys')}, got (${n('keys-per-txn')})`);
      keyFits(16, n('keys'), '--keys');
      command = {
        name: 'stm',
        isolation: s('isolation') as Isolation,
        keys: n('keys'),
        total: n('total'),
        keysPerTxn: n('keys-per-txn'),
        txnWrPercent: n('txn-wr-percent'),
        locker: s('stm-locker') as 'stm' | 'lock-client' | 'lock-rpc',
        valSize: n('val-size'),
        rate: n('rate'),
      };
      break;
    }
    default:
      throw new UsageError(`unknown command "${String(commandName)}"`);
  }
  return { config: { global, command } };
}

/** True when argv[i] is the value of the non-boolean flag before it (`--clients 10`). */
function isValueOf(argv: readonly string[], i: number, globals: Record<string, FlagSpec>): boolean {
  const prev = argv[i - 1];
  if (prev === undefined || !prev.startsWith('-') || prev.includes('=')) return false;
  const name = prev.replace(/^--?/, '');
  const spec = globals[name] ?? Object.values(COMMANDS).map((c) => c.flags[name] ?? Object.values(c.flags).find((f) => f.alias === name)).find((x) => x !== undefined);
  return spec !== undefined && spec.kind !== 'bool';
}
