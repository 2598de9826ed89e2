/**
 * tsetcd's flags. Names, defaults and their environment variables follow etcd's (ETCD_NAME
 * becomes TSETCD_NAME); `--config-file` reads the same keys from YAML.
 * Precedence: flag > environment > config file > default.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS, defaultDataDir, parseDuration, parseInitialCluster, parseUrl, type ServerConfig } from '../server/config.js';
import { isLogLevel, jsonLogger } from './logger.js';

interface FlagSpec {
  readonly flag: string;
  readonly description: string;
  readonly defaultValue?: string;
}

// Every flag is a string here; parsing into numbers and lists happens in toConfig, after the
// flag/env/file layers are merged.
const FLAGS: readonly FlagSpec[] = [
  { flag: 'name', description: 'Human-readable name for this member.', defaultValue: DEFAULTS.name },
  { flag: 'data-dir', description: 'Path to the data directory (default "${name}.tsetcd").' },
  { flag: 'listen-client-urls', description: 'List of URLs to listen on for client traffic.', defaultValue: DEFAULTS.listenClientUrls.join(',') },
  { flag: 'advertise-client-urls', description: 'List of this member\'s client URLs to advertise to the public.', defaultValue: DEFAULTS.advertiseClientUrls.join(',') },
  { flag: 'listen-peer-urls', description: 'List of URLs to listen on for peer traffic.', defaultValue: DEFAULTS.listenPeerUrls.join(',') },
  { flag: 'initial-advertise-peer-urls', description: 'List of this member\'s peer URLs to advertise to the rest of the cluster.', defaultValue: DEFAULTS.initialAdvertisePeerUrls.join(',') },
  { flag: 'initial-cluster', description: 'Initial cluster configuration for bootstrapping (default "${name}=${initial-advertise-peer-urls}").' },
  { flag: 'initial-cluster-state', description: 'Initial cluster state (\'new\' or \'existing\').', defaultValue: DEFAULTS.initialClusterState },
  { flag: 'initial-cluster-token', description: 'Initial cluster token for the cluster during bootstrap.', defaultValue: DEFAULTS.initialClusterToken },
  { flag: 'heartbeat-interval', description: 'Time (in milliseconds) of a heartbeat interval.', defaultValue: String(DEFAULTS.heartbeatMs) },
  { flag: 'election-timeout', description: 'Time (in milliseconds) for an election to timeout.', defaultValue: String(DEFAULTS.electionMs) },
  { flag: 'snapshot-count', description: 'Number of committed transactions to trigger a snapshot to disk.', defaultValue: String(DEFAULTS.snapshotCount) },
  { flag: 'snapshot-catchup-entries', description: 'Entries kept after a snapshot so slow followers can catch up from the log.', defaultValue: String(DEFAULTS.snapshotCatchUpEntries) },
  { flag: 'max-request-bytes', description: 'Maximum client request size in bytes the server will accept.', defaultValue: String(DEFAULTS.maxRequestBytes) },
  { flag: 'max-txn-ops', description: 'Maximum number of operations permitted in a transaction.', defaultValue: String(DEFAULTS.maxTxnOps) },
  { flag: 'experimental-watch-progress-notify-interval', description: 'Duration of periodic watch progress notifications.', defaultValue: '10m' },
  { flag: 'log-level', description: 'Configures log level. Only supports debug, info, warn, error.', defaultValue: 'info' },
];

function envName(flag: string): string {
  return `TSETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`invalid value "${v}" for flag --${flag}: must be a positive integer`);
  return n;
}

function durationMs(flag: string, v: string): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    throw new Error(`invalid value "${v}" for flag --${flag}: time: invalid duration "${v}"`);
  }
  if (ms <= 0) throw new Error(`invalid value "${v}" for flag --${flag}: must be positive`);
  return ms;
}

function urls(flag: string, v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new Error(`--${flag} must not be empty`);
  for (const u of list) parseUrl(u);
  return list;
}

/** Merge flags (given on the command line), environment and config file into one map. */
export function resolveSettings(cmd: Command, env: NodeJS.ProcessEnv): Map<string, string | undefined> {
  const opts = cmd.opts<Record<string, string | undefined>>();
  let file: Record<string, unknown> = {};
  const configFile = opts['configFile'] ?? env['TSETCD_CONFIG_FILE'];
  if (configFile) {
    const parsed: unknown = parseYaml(readFileSync(configFile, 'utf8'));
    if (parsed !== null && typeof parsed === 'object') file = parsed as Record<string, unknown>;
  }
  const out = new Map<string, string | undefined>();
  for (const spec of FLAGS) {
    const key = camel(spec.flag);
    const fromCli = cmd.getOptionValueSource(key) === 'cli' ? opts[key] : undefined;
    const fromEnv = env[envName(spec.flag)];
    const fromFile = file[spec.flag];
    out.set(spec.flag, fromCli ?? fromEnv ?? (fromFile === undefined ? undefined : String(fromFile)) ?? spec.defaultValue);
  }
  return out;
}

export function toConfig(s: Map<string, string | undefined>): ServerConfig {
  const get = (k: string): string => s.get(k) ?? '';
  const name = get('name');
  const peerUrls = urls('initial-advertise-peer-urls', get('initial-advertise-peer-urls'));
  const state = get('initial-cluster-state');
  if (state !== 'new' && state !== 'existing') throw new Error(`invalid value "${state}" for flag --initial-cluster-state: must be new or existing`);
  const level = get('log-level');
  if (!isLogLevel(level)) throw new Error(`invalid value "${level}" for flag --log-level`);
  const heartbeatMs = positiveInt('heartbeat-interval', get('heartbeat-interval'));
  const electionMs = positiveInt('election-timeout', get('election-timeout'));
  if (electionMs < 5 * heartbeatMs) {
    throw new Error(`--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`);
  }
  return {
    name,
    dataDir: s.get('data-dir') ?? defaultDataDir(name),
    listenClientUrls: urls('listen-client-urls', get('listen-client-urls')),
    advertiseClientUrls: urls('advertise-client-urls', get('advertise-client-urls')),
    listenPeerUrls: urls('listen-peer-urls', get('listen-peer-urls')),
    initialAdvertisePeerUrls: peerUrls,
    initialCluster: parseInitialCluster(s.get('initial-cluster') ?? peerUrls.map((u) => `${name}=${u}`).join(',')),
    initialClusterState: state,
    initialClusterToken: get('initial-cluster-token'),
    heartbeatMs,
    electionMs,
    snapshotCount: positiveInt('snapshot-count', get('snapshot-count')),
    snapshotCatchUpEntries: positiveInt('snapshot-catchup-entries', get('snapshot-catchup-entries')),
    maxRequestBytes: positiveInt('max-request-bytes', get('max-request-bytes')),
    maxTxnOps: positiveInt('max-txn-ops', get('max-txn-ops')),
    watchProgressNotifyMs: durationMs('experimental-watch-progress-notify-interval', get('experimental-watch-progress-notify-interval')),
    logger: jsonLogger(level),
  };
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export function buildCommand(): Command {
  const cmd = new Command('tsetcd').description('An etcd-compatible, strongly consistent, distributed key-value store.').version('0.1.0');
  for (const spec of FLAGS) {
    const opt = new Option(`--${spec.flag} <value>`, spec.description);
    if (spec.defaultValue !== undefined) opt.default(spec.defaultValue);
    cmd.addOption(opt);
  }
  cmd.addOption(new Option('--config-file <path>', 'Path to the server configuration file (YAML, same keys as the flags).'));
  cmd.allowExcessArguments(false);
  return cmd;
}

