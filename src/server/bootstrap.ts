/**
 * Who this member is, worked out before anything else opens. The identity (member and cluster
 * id) lives in the WAL's metadata, never in the replicated database (a snapshot from the leader
 * replaces that). A fresh member works it out first: from --initial-cluster for a new cluster,
 * or by asking the running members (after `member add`) when joining one.
 */
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import type { Fs } from '../wal/index.js';
import type { ServerConfig } from './config.js';
import type { Databases } from './env.js';
import { computeClusterId, computeMemberId } from './ids.js';
import type { PeerRoutes } from './peer-routes.js';
import type { Member } from './service.js';

export interface Identity {
  readonly memberId: bigint;
  readonly clusterId: bigint;
}

/** What start-up found: a restart, a new cluster, or a member joining one (with its members). */
export type Start = { readonly kind: 'restart' } | { readonly kind: 'new'; readonly identity: Identity } | { readonly kind: 'join'; readonly identity: Identity; readonly members: readonly Member[] };

export function walDir(memberDir: string): string {
  return path.join(memberDir, 'wal');
}

/**
 * Looks at the member directory. Without a WAL segment, a member that never got further (a
 * crash while creating it) starts afresh; one that has a database has lost its log, and
 * starting over could vote twice in a term: refused.
 */
export async function findStart(cfg: ServerConfig, memberDir: string, fs: Fs, databases: Databases, peers: PeerRoutes): Promise<Start> {
  const dir = walDir(memberDir);
  const files = await fs.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (files !== undefined && files.some((f) => f.endsWith('.wal'))) return { kind: 'restart' };
  if (files !== undefined) {
    if (await databases.exists(path.join(memberDir, 'db'))) {
      throw new Error(`${dir} holds no WAL segment but the member has a database: its log is lost; restore it, or remove the member and add it again with an empty data dir`);
    }
    for (const f of files) await fs.unlink(path.join(dir, f));
  }
  if (cfg.initialClusterState === 'existing') {
    const joined = await discoverFromPeers(cfg, peers);
    return { kind: 'join', identity: joined, members: joined.members };
  }
  return { kind: 'new', identity: identityForNewCluster(cfg) };
}

export function initialMembers(cfg: ServerConfig): Member[] {
  const members: Member[] = [];
  for (const [name, urls] of cfg.initialCluster) {
    const id = computeMemberId(urls, cfg.initialClusterToken);
    if (members.some((m) => m.id === id)) throw new Error(`member ${name} has the same peer URLs as another member`);
    members.push({ id, name: '', peerURLs: [...urls], clientURLs: [], isLearner: false });
  }
  return members;
}

function identityForNewCluster(cfg: ServerConfig): Identity {
  const mine = cfg.initialCluster.get(cfg.name);
  if (!mine) throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  if ([...mine].sort().join(',') !== [...cfg.initialAdvertisePeerUrls].sort().join(',')) {
    throw new Error(`--initial-cluster has ${cfg.name}=${mine.join(',')} but missing from --initial-advertise-peer-urls=${cfg.initialAdvertisePeerUrls.join(',')}`);
  }
  return { memberId: computeMemberId(mine, cfg.initialClusterToken), clusterId: computeClusterId(initialMembers(cfg).map((m) => m.id)) };
}

/**
 * Joining an existing cluster: ask the running members for the member list on their peer URLs
 * and find ourselves in it by our advertised peer URLs.
 */
async function discoverFromPeers(cfg: ServerConfig, peers: PeerRoutes): Promise<Identity & { members: readonly Member[] }> {
  const mine = [...cfg.initialAdvertisePeerUrls].sort().join(',');
  const errors: string[] = [];
  for (const [name, urls] of cfg.initialCluster) {
    if (name === cfg.name) continue;
    for (const url of urls) {
      try {
        const { clusterId, members } = await peers.ask(url, { kind: 'members' });
        const me = members.find((m) => [...m.peerURLs].sort().join(',') === mine);
        if (!me) throw new Error(`member with peer URLs ${mine} is not in the cluster's member list (add it first with member add)`);
        return { memberId: me.id, clusterId, members };
      } catch (e) {
        errors.push(`${url}: ${e instanceof Error ? ((e.cause instanceof Error ? e.cause.message : undefined) ?? e.message) : String(e)}`);
      }
    }
  }
  throw new Error(`cannot fetch the cluster's members from --initial-cluster: ${errors.join('; ')}`);
}

export function logStart(logger: Logger, start: Start, ids: Identity): void {
  const fields = { memberId: ids.memberId.toString(16), clusterId: ids.clusterId.toString(16) };
  if (start.kind === 'restart') logger.info('restarting member from its data directory', fields);
  else logger.info('starting a new member', { ...fields, joining: start.kind === 'join' });
}
