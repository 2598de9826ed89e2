/**
 * The etcd v3 API of one member (etcd's v3_server.go): each MemberService call checked as
 * etcd's API layer checks it, then served by the member's parts (member.ts): proposed through
 * raft, read after a ReadIndex round, or answered by the lease leader.
 */
import { EtcdError } from '../errors.js';
import { MAX_LEASE_TTL_SECONDS } from '../lease/index.js';
import { checkDeleteRangeRequest, checkPutRequest, checkTxnRequest, isTxnReadOnly } from '../mvcc/index.js';
import { ConfChangeType, NONE, type RawNode } from '../raft/index.js';
import type { ServerConfig } from './config.js';
import { DbSnapshots } from './db-snapshots.js';
import type { MemberEnv, MemberStrategies, TimerHandle } from './env.js';
import { computeMemberId } from './ids.js';
import { Member } from './member.js';
import type {
  CompactResult,
  DeleteRangeResult,
  HashKVResult,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseLeasesResult,
  LeaseTimeToLiveResult,
  MemberChangeResult,
  MemberListResult,
  MemberService,
  MemberWatchStream,
  PutResult,
  RangeCall,
  RangeResult,
  ResponseHeader,
  StatusResult,
  TxnCall,
  TxnResult,
} from './service.js';

export const SERVER_VERSION = '3.4.0';

/** A lease id is a positive int64 (etcd masks its request id the same way). */
const INT63_MASK = (1n << 63n) - 1n;

export class V3Server implements MemberService {
  readonly limits: { maxRequestBytes: number; maxTxnOps: number };
  readonly member: Member;

  constructor(cfg: ServerConfig, env: MemberEnv, strategies: MemberStrategies = {}) {
    this.limits = { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps };
    this.member = new Member(cfg, env, strategies);
  }

  // --- lifecycle ------------------------------------------------------------------------------

  async start(): Promise<void> {
    const m = this.member;
    await m.start();
    const p = m.parts;
    m.peerRoutes.mount({
      members: async () => ({ clusterId: p.clusterId, members: m.membership.list() }),
      promote: async (req) => {
        await this.memberPromote(req.id);
        return {};
      },
      keepalive: (req) => p.leases.serveKeepAlive(req.ids),
      ttl: (req) => p.leases.serveTimeToLive(req.id, req.keys),
    });
    void this.publishAttributes();
  }

  stop(): Promise<void> {
    return this.member.stop();
  }

  whenStopped(): Promise<void> {
    return this.member.whenStopped();
  }

  /** Why this member stopped by itself (e.g. it was removed), for the process to report. */
  get stopReason(): string | undefined {
    return this.member.stopReason;
  }

  get memberId(): bigint {
    return this.member.parts.memberId;
  }

  get clusterId(): bigint {
    return this.member.parts.clusterId;
  }

  /** For tests and the admin surface. */
  raftStatus(): ReturnType<RawNode['status']> {
    return this.member.parts.node.status();
  }

  isLeader(): boolean {
    return this.member.parts.node.isLeader();
  }

  /** Watcher counts by place (etcd's watcher gauges); for tests and metrics. */
  watchStats(): { synced: number; unsynced: number; victims: number; streams: number } {
    return this.member.parts.watches.stats();
  }

  // --- KV ---------------------------------------------------------------------------------------

  async range(req: RangeCall): Promise<RangeResult> {
    const m = this.member;
    if (!req.serializable) {
      m.refuseOnLearner();
      await m.parts.reads.linearizableRead();
    }
    const { serializable: _s, key, rangeEnd, ...opts } = req;
    const r = await m.parts.backend.store.range(key, rangeEnd, opts);
    return { header: m.header(r.rev), kvs: r.kvs, more: r.more, count: r.count };
  }

  // Requests are checked before they are proposed (as etcd's v3rpc layer does), so a request
  // that can only fail costs no raft round; apply checks again, as a member must not trust a log.
  async put(req: Parameters<MemberService['put']>[0]): Promise<PutResult> {
    this.member.refuseOnLearner();
    checkPutRequest(req);
    const r = await this.member.parts.proposer.propose<'put'>((id) => ({ id, op: 'put', put: req }));
    return { header: this.member.header(r.rev), ...(r.prevKv ? { prevKv: r.prevKv } : {}) };
  }

  async deleteRange(req: Parameters<MemberService['deleteRange']>[0]): Promise<DeleteRangeResult> {
    this.member.refuseOnLearner();
    checkDeleteRangeRequest(req);
    const r = await this.member.parts.proposer.propose<'deleteRange'>((id) => ({ id, op: 'deleteRange', deleteRange: req }));
    return { header: this.member.header(r.rev), deleted: r.deleted, prevKvs: r.prevKvs };
  }

  async txn(req: TxnCall): Promise<TxnResult> {
    const m = this.member;
    m.refuseOnLearner();
    checkTxnRequest(req, this.limits.maxTxnOps);
    if (isTxnReadOnly(req)) {
      await m.parts.reads.linearizableRead();
      const r = await m.parts.backend.store.txn(req);
      return { header: m.header(r.rev), succeeded: r.succeeded, responses: r.responses };
    }
    const r = await m.parts.proposer.propose<'txn'>((id) => ({ id, op: 'txn', txn: req }));
    return { header: m.header(r.rev), succeeded: r.succeeded, responses: r.responses };
  }

  async compact(revision: number, physical: boolean): Promise<CompactResult> {
    this.member.refuseOnLearner();
    const r = await this.member.parts.proposer.propose<'compaction'>((id) => ({ id, op: 'compaction', revision, physical }));
    return { header: this.member.header(r.rev) };
  }

  // --- Cluster ----------------------------------------------------------------------------------

  async memberList(linearizable: boolean): Promise<MemberListResult> {
    if (linearizable) await this.member.parts.reads.linearizableRead();
    return { header: this.member.header(), members: this.member.membership.list() };
  }

  async memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResult> {
    const m = this.member;
    if (peerURLs.length === 0) throw new EtcdError('MemberBadURLs');
    for (const o of m.membership.list()) {
      if (o.peerURLs.some((u) => peerURLs.includes(u))) throw new EtcdError('PeerURLExist');
    }
    if (isLearner && m.membership.list().filter((o) => o.isLearner).length >= 1) throw new EtcdError('TooManyLearners');
    const id = computeMemberId(peerURLs, m.cfg.initialClusterToken, m.env.clock.nowMs());
    const member = { id, name: '', peerURLs: [...peerURLs], clientURLs: [], isLearner };
    await m.parts.proposer.proposeConfChange(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, id, member);
    return { header: m.header(), member: m.membership.get(id) ?? member, members: m.membership.list() };
  }

  async memberRemove(id: bigint): Promise<MemberChangeResult> {
    const m = this.member;
    const target = m.membership.get(id);
    if (!target) throw new EtcdError('MemberNotFound');
    await m.parts.proposer.proposeConfChange(ConfChangeType.RemoveNode, id, target);
    return { header: m.header(), members: m.membership.list() };
  }

  async memberUpdate(id: bigint, peerURLs: readonly string[]): Promise<MemberChangeResult> {
    const m = this.member;
    const target = m.membership.get(id);
    if (!target) throw new EtcdError('MemberNotFound');
    for (const o of m.membership.list()) {
      if (o.id !== id && o.peerURLs.some((u) => peerURLs.includes(u))) throw new EtcdError('PeerURLExist');
    }
    // Re-adding an existing member with its new URLs updates it in place.
    await m.parts.proposer.proposeConfChange(target.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, id, { ...target, peerURLs: [...peerURLs] });
    return { header: m.header(), members: m.membership.list() };
  }

  async memberPromote(id: bigint): Promise<MemberChangeResult> {
    const m = this.member;
    const target = m.membership.get(id);
    if (!target) throw new EtcdError('MemberNotFound');
    if (!target.isLearner) throw new EtcdError('MemberNotLearner');
    if (m.lead === NONE) throw new EtcdError('NoLeader');
    const p = m.parts;
    if (m.lead !== p.memberId) {
      // etcd forwards a promotion from a follower to the leader: only it knows the learner's log.
      await m.peerRoutes.toLeader({ kind: 'promote', id });
      // The leader applied the promotion; wait until this member has too, so the list is current.
      await p.reads.linearizableRead();
      return { header: m.header(), members: m.membership.list() };
    }
    // Like etcd: a learner is ready when its log has at least 90% of the leader's.
    const progress = p.node.status().progress;
    const leaderMatch = progress.get(p.memberId)?.match ?? 0;
    const learnerMatch = progress.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * 0.9) throw new EtcdError('LearnerNotReady');
    await p.proposer.proposeConfChange(ConfChangeType.AddNode, id, { ...target, isLearner: false });
    return { header: m.header(), members: m.membership.list() };
  }

  // --- Maintenance ------------------------------------------------------------------------------

  async status(): Promise<StatusResult> {
    const m = this.member;
    const p = m.parts;
    const st = p.node.status();
    const dbSize = await m.env.databases.size(DbSnapshots.livePath(p.memberDir));
    return {
      header: m.header(),
      version: SERVER_VERSION,
      dbSize,
      dbSizeInUse: dbSize,
      leader: st.lead,
      raftIndex: st.commit,
      raftTerm: st.term,
      raftAppliedIndex: p.applied.index,
      errors: [],
      isLearner: m.membership.get(p.memberId)?.isLearner ?? false,
    };
  }

  async hashKV(revision: number): Promise<HashKVResult> {
    const h = await this.member.parts.backend.store.hashKV(revision);
    return { header: this.member.header(), hash: h.hash, compactRevision: h.compactRevision };
  }

  async moveLeader(targetId: bigint): Promise<{ header: ResponseHeader }> {
    const m = this.member;
    const p = m.parts;
    if (m.lead !== p.memberId) throw new EtcdError('NotLeader');
    const target = m.membership.get(targetId);
    if (!target || target.isLearner || targetId === p.memberId) throw new EtcdError('BadLeaderTransferee');
    p.node.transferLeadership(targetId);
    p.loop.kick();
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = m.env.timers.after(m.requestTimeoutMs, () => r('timeout'))));
    try {
      // Bounded by the timer: every leader change (and a stop) ends one wait.
      while (m.lead !== targetId) {
        if (!m.isRunning || (await Promise.race([p.loop.nextLeader(), timeout])) === 'timeout') throw new EtcdError('TimeoutDueToLeaderFail');
      }
    } finally {
      timer?.cancel();
    }
    return { header: m.header() };
  }

  // --- Watch ------------------------------------------------------------------------------------

  watch(): MemberWatchStream {
    // etcd refuses every stream on a learner.
    this.member.refuseOnLearner();
    if (!this.member.isRunning) throw new EtcdError('Stopped');
    return this.member.parts.watches.open();
  }

  // --- Lease ------------------------------------------------------------------------------------

  async leaseGrant(ttlSeconds: number, id: bigint): Promise<LeaseGrantResult> {
    const m = this.member;
    m.refuseOnLearner();
    // As etcd's API layer: refused before proposing (the apply checks again).
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new EtcdError('LeaseTTLTooLarge');
    const proposer = m.parts.proposer;
    let leaseId = id;
    while (leaseId === 0n) leaseId = proposer.nextId() & INT63_MASK;
    const r = await proposer.propose<'leaseGrant'>((rid) => ({ id: rid, op: 'leaseGrant', leaseId, ttl: ttlSeconds }));
    return { header: m.header(), id: leaseId, ttl: r.ttl };
  }

  async leaseRevoke(id: bigint): Promise<{ header: ResponseHeader }> {
    this.member.refuseOnLearner();
    await this.member.parts.proposer.propose<'leaseRevoke'>((rid) => ({ id: rid, op: 'leaseRevoke', leaseId: id }));
    return { header: this.member.header() };
  }

  async leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResult> {
    this.member.refuseOnLearner();
    const ttl = await this.member.parts.leases.keepAlive(id);
    return { header: this.member.header(), id, ttl };
  }

  async leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResult> {
    this.member.refuseOnLearner();
    const t = await this.member.parts.leases.timeToLive(id, withKeys);
    return { header: this.member.header(), id, ttl: t.ttl, grantedTtl: t.grantedTtl, keys: [...t.keys] };
  }

  async leaseLeases(): Promise<LeaseLeasesResult> {
    this.member.refuseOnLearner();
    return { header: this.member.header(), leases: this.member.parts.backend.leases.lessor.leases().map((l) => l.id) };
  }

  /** Publishes this member's name and client URLs through raft once there is a leader. */
  private async publishAttributes(): Promise<void> {
    const m = this.member;
    const cfg = m.cfg;
    for (let attempt = 0; m.isRunning && attempt < 1000; attempt++) {
      const me = m.membership.get(m.parts.memberId);
      if (me && me.name === cfg.name && sameList(me.clientURLs, cfg.advertiseClientUrls)) return;
      await m.parts.loop.leaderKnown();
      try {
        await m.parts.proposer.propose<'attributes'>((id) => ({ id, op: 'attributes', memberId: m.parts.memberId, name: cfg.name, clientURLs: [...cfg.advertiseClientUrls] }));
        cfg.logger.info('published local member to cluster through raft', { name: cfg.name, clientURLs: cfg.advertiseClientUrls });
        return;
      } catch (e) {
        if (!m.isRunning) return;
        cfg.logger.debug('publishing attributes failed; retrying', { error: String(e) });
        await new Promise<void>((r) => m.env.timers.after(cfg.heartbeatMs * 5, r));
      }
    }
  }
}

/** A member of `cfg` over `env` (real-env.ts for a process; a simulated one in tests). */
export function createMember(cfg: ServerConfig, env: MemberEnv, strategies?: MemberStrategies): V3Server {
  return new V3Server(cfg, env, strategies);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
