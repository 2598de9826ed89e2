/**
 * Everything a member gets from the world: its clock, timers, randomness, file system, databases
 * and peer network. The member creates none of these itself, so the whole cluster can run in one
 * process on a simulated clock, disk and network from one seed (test/sim-cluster), and the real
 * process builds the real ones in one place (real-env.ts, the only file in src/server that may
 * read the clock, start timers, draw randomness or open a database).
 */
import type { MvccDb } from '../mvcc/index.js';
import type { Message } from '../raft/index.js';
import type { FailpointName } from '../util/test-hook-names.js';
import type { Fs } from '../wal/index.js';
import type { ErrorCode } from '../errors.js';
import type { Member, WatchResult } from './service.js';

/** Wall-clock time in milliseconds (lease expiry, request ids, member ids of added members). */
export interface Clock {
  nowMs(): number;
}

export interface TimerHandle {
  cancel(): void;
}

export interface Timers {
  /** Calls fn once, ms from now. */
  after(ms: number, fn: () => void): TimerHandle;
  /** Calls fn every ms from now on, until cancelled. */
  every(ms: number, fn: () => void): TimerHandle;
  /** Resolves on a later turn, after pending I/O callbacks (setImmediate): long loops yield with it. */
  yield(): Promise<void>;
}

export interface Random {
  /** A uniformly drawn integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

/**
 * The member's databases by path: the live one, and one staged per incoming snapshot. A
 * database is any abstract-level (classic-level on disk, memory-level in the simulation).
 */
export interface Databases {
  open(path: string): Promise<MvccDb>;
  /** Whether a database was ever created at path (and not removed). */
  exists(path: string): Promise<boolean>;
  /** Removes the database at path, if any. It must be closed. */
  remove(path: string): Promise<void>;
  /** Replaces the database at `to` (if any) by the one at `from`; both closed. Atomic on a crash. */
  replace(from: string, to: string): Promise<void>;
  /** The bytes the database at path takes. */
  size(path: string): Promise<number>;
  /** The database paths directly under dir. */
  list(dir: string): Promise<string[]>;
}

// ---- the peer network -----------------------------------------------------------------------

/** What one member asks another over the peer port, besides raft's own messages. */
export type PeerRequest =
  /** The member list, with the cluster id (a member joining the cluster asks). */
  | { readonly kind: 'members' }
  /** Promote a learner (only the leader knows how far its log has come). */
  | { readonly kind: 'promote'; readonly id: bigint }
  /** Renew these leases (only the leader tracks expiry). */
  | { readonly kind: 'keepalive'; readonly ids: readonly bigint[] }
  /** A lease's time to live. */
  | { readonly kind: 'ttl'; readonly id: bigint; readonly keys: boolean };

export interface PeerAnswers {
  members: { readonly clusterId: bigint; readonly members: readonly Member[] };
  promote: Record<string, never>;
  keepalive: { readonly ttls: readonly number[] };
  ttl: { readonly ttl: number; readonly grantedTtl: number; readonly keys: readonly Uint8Array[] };
}

export type PeerAnswer<K extends PeerRequest['kind']> = PeerAnswers[K];

/** A request's outcome: its answer, or the etcd error the serving member failed it with. */
export type PeerReply<K extends PeerRequest['kind']> =
  | { readonly ok: true; readonly answer: PeerAnswer<K> }
  | { readonly ok: false; readonly code: ErrorCode | undefined; readonly message: string };

/** What the network hands to the member. */
export interface PeerHandlers {
  /** Raft messages from one peer, in the order it sent them. Must not throw. */
  onMessages(msgs: readonly Message[]): void;
  /** A snapshot message with the database behind it; resolving acknowledges it to the sender. */
  onSnapshot(header: Message, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** The peer could not be reached; called on a later turn than the send that found out. */
  onUnreachable(id: bigint): void;
  /** A request from another member (see PeerRequest). */
  serve<R extends PeerRequest>(req: R): Promise<PeerReply<R['kind']>>;
}

/** One member's place on the peer network, once it listens. */
export interface PeerEndpoint {
  addPeer(id: bigint, urls: readonly string[]): void;
  removePeer(id: bigint): void;
  send(msgs: readonly Message[]): void;
  /** Resolves once the peer has installed (staged) the snapshot. */
  sendSnapshot(to: bigint, header: Message, body: AsyncIterable<Uint8Array>): Promise<void>;
  close(): Promise<void>;
}

export interface PeerNetwork {
  /** Starts listening as member `id` of cluster `clusterId` on its peer URLs. */
  listen(me: { readonly id: bigint; readonly clusterId: bigint; readonly listenPeerUrls: readonly string[] }, handlers: PeerHandlers): Promise<PeerEndpoint>;
  /** Asks the member at a peer URL; throws when it cannot be reached or does not answer in time. */
  request<R extends PeerRequest>(url: string, req: R, timeoutMs: number): Promise<PeerReply<R['kind']>>;
  /** Ends the connections request() keeps. */
  close(): void;
}

// ---- test strategies ----------------------------------------------------------------------------

/**
 * Failpoints (etcd's gofail): named points where a test entry point injects a crash, a delay or
 * an error. Production passes NO_FAILPOINTS; the hot paths test only `armed`.
 */
export interface Failpoints {
  readonly armed: boolean;
  hit(name: FailpointName): Promise<void>;
}

export const NO_FAILPOINTS: Failpoints = { armed: false, hit: () => Promise.resolve() };

// ---- the whole environment ----------------------------------------------------------------------

export interface MemberEnv {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  /** The WAL's and snapshots' file system (and the member directory's). */
  readonly fs: Fs;
  readonly databases: Databases;
  readonly network: PeerNetwork;
  readonly failpoints: Failpoints;
}

/**
 * Test strategies, injected at construction: production passes none and gets etcd's behaviour.
 * The fault harness's bug switches are strategies that the simulation and jepsen-lite must
 * catch (positive controls).
 */
export interface MemberStrategies {
  /** How a linearizable read is confirmed (read-index.ts ReadPolicy). */
  readonly readPolicy?: (confirm: () => Promise<void>) => Promise<void>;
  /** A filter per watch stream for the responses going out. */
  readonly watchOutgoing?: () => (result: WatchResult) => WatchResult;
  /** Where commit-only hard states go (raft-storage.ts DiskStorageOptions.commitOnly). */
  readonly commitOnly?: 'wal' | 'memory';
}
