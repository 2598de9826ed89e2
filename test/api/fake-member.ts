/**
 * A MemberService for API tests: one member of a one-member cluster with fixed ids, backed by a
 * real MvccStore on a MemoryLevel, applying writes directly (each write gets the next "raft
 * index" as its consistent index). No raft, no WAL: what it tests is the API layer's mapping.
 *
 * Watches are real: a WatchHub over the store's history, fed after each write, and the server's
 * ServerWatchStream per call. Leases are a table without expiry (expireLease() plays one
 * running out); revoking one deletes its keys in one revision, as etcd does.
 */
import { MemoryLevel } from 'memory-level';
import { EtcdError } from '../../src/errors.js';
import { MvccStore, isTxnReadOnly, type Applied, type KeyValue } from '../../src/mvcc/index.js';
import { NO_FAILPOINTS } from '../../src/server/env.js';
import { ServerWatchStream } from '../../src/server/watch-stream.js';
import { WatchHub } from '../../src/watch/index.js';
import type {
  CompactResult,
  DeleteRangeRequest,
  DeleteRangeResult,
  HashKVResult,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseLeasesResult,
  LeaseTimeToLiveResult,
  Member,
  MemberChangeResult,
  MemberListResult,
  MemberService,
  PutRequest,
  PutResult,
  RangeCall,
  RangeResult,
  ResponseHeader,
  StatusResult,
  TxnCall,
  TxnResult,
  MemberWatchStream,
} from '../../src/server/service.js';

export const CLUSTER_ID = 0xcdf818194e3a8c32n;
export const MEMBER_ID = 0x8e9e05c52164694dn;
export const RAFT_TERM = 2;

/** etcd's limit on a lease TTL (lease.MaxLeaseTTL). */
const MAX_LEASE_TTL_SECONDS = 9_000_000_000;
/** etcd's minimum TTL with its default election timeout. */
export const MIN_LEASE_TTL_SECONDS = 2;
const PRESET_LEASE_TTL_SECONDS = 3600;

interface FakeLease {
  readonly grantedTtl: number;
  /** When it runs out (ms since the epoch); only TimeToLive reads it. */
  expiresAtMs: number;
}

export interface FakeMemberOptions {
  /** Leases that exist from the start (TTL 3600 s); a put naming another fails with LeaseNotFound. */
  readonly leases?: readonly bigint[];
  /** Watch responses buffered per stream (the member's bound); default 64. */
  readonly maxQueuedWatchResponses?: number;
  readonly maxRequestBytes?: number;
  readonly maxTxnOps?: number;
  readonly clientURL?: string;
}

export class FakeMember implements MemberService {
  readonly limits: { maxRequestBytes: number; maxTxnOps: number };
  /** Set to 0n to play a member without a leader. */
  leader = MEMBER_ID;
  members: Member[];
  /** Raft index of the last applied write. */
  private index = 0;
  /** mvcc applies one write at a time: writes queue here. */
  private writes: Promise<unknown> = Promise.resolve();
  private nextMemberId = 0x5a4e1f4b3c2d1e0fn;
  readonly hub: WatchHub;
  private readonly maxQueued: number;
  /** Whether a sync loop is running (at most one). */
  private syncing = false;
  private nextLeaseId = 0x694d7a8e5c3c4b00n;
  /** Calls of leaseKeepAlive, for tests. */
  keepAlives = 0;

  private constructor(
    readonly store: MvccStore,
    private readonly leases: Map<bigint, FakeLease>,
    options: FakeMemberOptions,
  ) {
    this.hub = new WatchHub({ history: store });
    this.maxQueued = options.maxQueuedWatchResponses ?? 64;
    this.limits = { maxRequestBytes: options.maxRequestBytes ?? 1.5 * 1024 * 1024, maxTxnOps: options.maxTxnOps ?? 128 };
    this.members = [
      {
        id: MEMBER_ID,
        name: 'default',
        peerURLs: ['http://localhost:2380'],
        clientURLs: [options.clientURL ?? 'http://localhost:2379'],
        isLearner: false,
      },
    ];
  }

  static async open(options: FakeMemberOptions = {}): Promise<FakeMember> {
    const leases = new Map<bigint, FakeLease>();
    const expiresAtMs = Date.now() + PRESET_LEASE_TTL_SECONDS * 1000;
    for (const id of options.leases ?? []) leases.set(id, { grantedTtl: PRESET_LEASE_TTL_SECONDS, expiresAtMs });
    const store = await MvccStore.open(new MemoryLevel(), { leaseExists: (id) => leases.has(id) });
    return new FakeMember(store, leases, options);
  }

  /** Raft index of the last applied write (Status's raftIndex and raftAppliedIndex). */
  get appliedIndex(): number {
    return this.index;
  }

  header(revision = this.store.currentRev): ResponseHeader {
    return { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: RAFT_TERM };
  }

  /** Applies writes one at a time; each revision's events reach the watchers before the caller hears back. */
  private write<T>(apply: (index: number) => Promise<T>): Promise<T> {
    const result = this.writes.then(async () => {
      const r = await apply(++this.index);
      const rev = this.store.currentRev;
      if (rev > this.hub.currentRev) {
        this.hub.notify((r as Partial<Applied>).events ?? [], rev);
        this.kickSync();
      }
      return r;
    });
    this.writes = result.catch(() => {});
    return result;
  }

  /** Runs the hub's catch-up rounds until no watcher is behind (or held aside) any more. */
  private kickSync(): void {
    if (this.syncing || !this.hub.pending) return;
    this.syncing = true;
    const round = async (): Promise<void> => {
      try {
        while (await this.hub.syncOnce()) await new Promise((r) => setTimeout(r, 5));
      } finally {
        this.syncing = false;
      }
    };
    setImmediate(() => void round());
  }

  async range(req: RangeCall): Promise<RangeResult> {
    const r = await this.store.range(req.key, req.rangeEnd, req);
    return { header: this.header(r.rev), kvs: r.kvs, more: r.more, count: r.count };
  }

  async put(req: PutRequest): Promise<PutResult> {
    const r = await this.write((i) => this.store.put(req, i));
    return { header: this.header(r.rev), ...(r.prevKv === undefined ? {} : { prevKv: r.prevKv }) };
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResult> {
    const r = await this.write((i) => this.store.deleteRange(req, i));
    return { header: this.header(r.rev), deleted: r.deleted, prevKvs: r.prevKvs };
  }

  async txn(req: TxnCall): Promise<TxnResult> {
    const r = isTxnReadOnly(req) ? await this.store.txn(req) : await this.write((i) => this.store.txn(req, i));
    return { header: this.header(r.rev), succeeded: r.succeeded, responses: r.responses };
  }

  async compact(revision: number, physical: boolean): Promise<CompactResult> {
    const handle = await this.write((i) => this.store.compact(revision, i));
    if (physical) await handle.done;
    return { header: this.header() };
  }

  async memberList(): Promise<MemberListResult> {
    return { header: this.header(), members: [...this.members] };
  }

  async memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResult> {
    if (this.members.some((m) => m.peerURLs.some((u) => peerURLs.includes(u)))) throw new EtcdError('PeerURLExist');
    const member: Member = { id: this.nextMemberId++, name: '', peerURLs: [...peerURLs], clientURLs: [], isLearner };
    this.members.push(member);
    return { header: this.header(), member, members: [...this.members] };
  }

  async memberRemove(id: bigint): Promise<MemberChangeResult> {
    this.find(id);
    this.members = this.members.filter((m) => m.id !== id);
    return { header: this.header(), members: [...this.members] };
  }

  async memberUpdate(id: bigint, peerURLs: readonly string[]): Promise<MemberChangeResult> {
    const m = this.find(id);
    this.members = this.members.map((x) => (x === m ? { ...m, peerURLs: [...peerURLs] } : x));
    return { header: this.header(), members: [...this.members] };
  }

  async memberPromote(id: bigint): Promise<MemberChangeResult> {
    const m = this.find(id);
    if (!m.isLearner) throw new EtcdError('MemberNotLearner');
    this.members = this.members.map((x) => (x === m ? { ...m, isLearner: false } : x));
    return { header: this.header(), members: [...this.members] };
  }

  private find(id: bigint): Member {
    const m = this.members.find((x) => x.id === id);
    if (m === undefined) throw new EtcdError('MemberNotFound');
    return m;
  }

  async status(): Promise<StatusResult> {
    return {
      header: this.header(),
      version: '3.4.0',
      dbSize: 20480,
      dbSizeInUse: 16384,
      leader: this.leader,
      raftIndex: this.index,
      raftTerm: RAFT_TERM,
      raftAppliedIndex: this.index,
      errors: [],
      isLearner: false,
    };
  }

  async hashKV(revision: number): Promise<HashKVResult> {
    const r = await this.store.hashKV(revision);
    return { header: this.header(r.revision), hash: r.hash, compactRevision: r.compactRevision };
  }

  async moveLeader(targetId: bigint): Promise<{ header: ResponseHeader }> {
    if (targetId !== MEMBER_ID) throw new EtcdError('BadLeaderTransferee');
    return { header: this.header() };
  }

  watch(): MemberWatchStream {
    return new ServerWatchStream({
      hub: this.hub,
      header: (rev) => this.header(rev),
      kvAt: async (key, rev) => (await this.store.range(key, undefined, { revision: rev })).kvs[0],
      maxResponseBytes: this.limits.maxRequestBytes,
      failpoints: NO_FAILPOINTS,
      maxQueued: this.maxQueued,
      wantSync: () => this.kickSync(),
      onClose: () => {},
    });
  }

  async leaseGrant(ttlSeconds: number, id: bigint): Promise<LeaseGrantResult> {
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new EtcdError('LeaseTTLTooLarge');
    const leaseId = id === 0n ? this.nextLeaseId++ : id;
    if (this.leases.has(leaseId)) throw new EtcdError('LeaseExist');
    const ttl = Math.max(ttlSeconds, MIN_LEASE_TTL_SECONDS);
    this.leases.set(leaseId, { grantedTtl: ttl, expiresAtMs: Date.now() + ttl * 1000 });
    return { header: this.header(), id: leaseId, ttl };
  }

  async leaseRevoke(id: bigint): Promise<{ header: ResponseHeader }> {
    if (!this.leases.has(id)) throw new EtcdError('LeaseNotFound');
    const keys = (await this.leaseKeys(id)).map((kv) => kv.key);
    this.leases.delete(id);
    if (keys.length > 0) await this.write((i) => this.store.txn({ success: keys.map((key) => ({ requestDeleteRange: { key } })) }, i));
    return { header: this.header() };
  }

  /** Plays the lease running out: revoked, as the leader's lessor would. */
  expireLease(id: bigint): Promise<{ header: ResponseHeader }> {
    return this.leaseRevoke(id);
  }

  async leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResult> {
    this.keepAlives++;
    if (this.leader === 0n) throw new EtcdError('NoLeader');
    const lease = this.leases.get(id);
    if (lease === undefined) return { header: this.header(), id, ttl: 0 };
    lease.expiresAtMs = Date.now() + lease.grantedTtl * 1000;
    return { header: this.header(), id, ttl: lease.grantedTtl };
  }

  async leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResult> {
    const lease = this.leases.get(id);
    if (lease === undefined) return { header: this.header(), id, ttl: -1, grantedTtl: 0, keys: [] };
    // etcd truncates the remaining time to whole seconds.
    const ttl = Math.max(0, Math.floor((lease.expiresAtMs - Date.now()) / 1000));
    const keys = withKeys ? (await this.leaseKeys(id)).map((kv) => kv.key) : [];
    return { header: this.header(), id, ttl, grantedTtl: lease.grantedTtl, keys };
  }

  async leaseLeases(): Promise<LeaseLeasesResult> {
    return { header: this.header(), leases: [...this.leases.keys()] };
  }

  /** The keys attached to a lease (a scan: the test store is small). */
  private async leaseKeys(id: bigint): Promise<KeyValue[]> {
    const all = await this.store.range(new Uint8Array([0]), new Uint8Array([0]), {});
    return all.kvs.filter((kv) => kv.lease === id);
  }
}
