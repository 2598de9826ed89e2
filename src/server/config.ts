import type { Logger } from '../util/logger.js';

/** One member's configuration, with etcd's flag names in comments and etcd's defaults. */
export interface ServerConfig {
  /** --name */
  readonly name: string;
  /** --data-dir */
  readonly dataDir: string;
  /** --listen-client-urls */
  readonly listenClientUrls: readonly string[];
  /** --advertise-client-urls */
  readonly advertiseClientUrls: readonly string[];
  /** --listen-peer-urls */
  readonly listenPeerUrls: readonly string[];
  /** --initial-advertise-peer-urls */
  readonly initialAdvertisePeerUrls: readonly string[];
  /** --initial-cluster, parsed: member name → peer URLs. */
  readonly initialCluster: ReadonlyMap<string, readonly string[]>;
  /** --initial-cluster-state */
  readonly initialClusterState: 'new' | 'existing';
  /** --initial-cluster-token */
  readonly initialClusterToken: string;
  /** --heartbeat-interval (ms) */
  readonly heartbeatMs: number;
  /** --election-timeout (ms) */
  readonly electionMs: number;
  /** --snapshot-count: applied entries between raft snapshots. */
  readonly snapshotCount: number;
  /** Entries kept in the raft log after a snapshot, for slow followers to catch up without one. */
  readonly snapshotCatchUpEntries: number;
  /** --max-request-bytes */
  readonly maxRequestBytes: number;
  /** --max-txn-ops */
  readonly maxTxnOps: number;
  /** --experimental-watch-progress-notify-interval (ms): progress notifications for idle watchers. */
  readonly watchProgressNotifyMs: number;
  readonly logger: Logger;
}

export const DEFAULTS = {
  name: 'default',
  listenClientUrls: ['http://localhost:2379'],
  advertiseClientUrls: ['http://localhost:2379'],
  listenPeerUrls: ['http://localhost:2380'],
  initialAdvertisePeerUrls: ['http://localhost:2380'],
  initialClusterState: 'new' as const,
  initialClusterToken: 'etcd-cluster',
  heartbeatMs: 100,
  electionMs: 1000,
  snapshotCount: 100_000,
  snapshotCatchUpEntries: 5_000,
  maxRequestBytes: 1.5 * 1024 * 1024,
  maxTxnOps: 128,
  watchProgressNotifyMs: 10 * 60 * 1000,
};

/**
 * A Go duration as etcd's flags take them ("10m", "1.5s", "1h30m", "250ms"), in milliseconds.
 * Throws on anything else.
 */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < s.length) {
    re.lastIndex = at;
    const m = re.exec(s);
    if (m === null) throw new Error(`invalid duration "${s}"`);
    ms += Number(m[1]) * (units[m[2] as string] as number);
    at = re.lastIndex;
  }
  if (s.length === 0) throw new Error('invalid duration ""');
  return ms;
}

/** etcd's default data directory is "<name>.etcd"; ours is "<name>.tsetcd". */
export function defaultDataDir(name: string): string {
  return `${name}.tsetcd`;
}

/** Parse "--initial-cluster" (name=url,name=url2,...). */
export function parseInitialCluster(s: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of s.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`invalid --initial-cluster entry ${JSON.stringify(trimmed)} (want name=url)`);
    const name = trimmed.slice(0, eq);
    const url = trimmed.slice(eq + 1);
    parseUrl(url);
    out.set(name, [...(out.get(name) ?? []), url]);
  }
  return out;
}

/** A listen or advertise URL: http://host:port (https later, with TLS). */
export function parseUrl(u: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(u)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'unix:') {
    throw new Error(`URL scheme must be http, https, unix, or unixs: ${u}`);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}
