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
};

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
