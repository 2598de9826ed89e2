/**
 * A MemberService for API tests: one member of a one-member cluster with fixed ids, backed by a
 * real MvccStore on a MemoryLevel, applying writes directly (each write gets the next "raft
 * index" as its consistent index). No raft, no WAL: what it tests is the API layer's mapping.
 */
import { MemoryLevel } from 'memory-level';
import { EtcdError } from '../../src/errors.js';
import { MvccStore, isTxnReadOnly } from '../../src/mvcc/index.js';
import type {
  CompactResult,
  DeleteRangeRequest,
  DeleteRangeResult,
  HashKVResult,
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
} from '../../src/server/service.js';

export const CLUSTER_ID = 0xcdf818194e3a8c32n;
export const MEMBER_ID = 0x8e9e05c52164694dn;
export const RAFT_TERM = 2;

export interface FakeMemberOptions {
  /** Leases that exist (a put naming another fails with LeaseNotFound). Default: none. */
  readonly leases?: readonly bigint[];
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

  private constructor(
    readonly store: MvccStore,
    options: FakeMemberOptions,
  ) {
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
    const leases = new Set(options.leases ?? []);
    const store = await MvccStore.open(new MemoryLevel(), { leaseExists: (id) => leases.has(id) });
    return new FakeMember(store, options);
  }

  /** Raft index of the last applied write (Status's raftIndex and raftAppliedIndex). */
  get appliedIndex(): number {
    return this.index;
  }

  header(revision = this.store.currentRev): ResponseHeader {
    return { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: RAFT_TERM };
  }

  private write<T>(apply: (index: number) => Promise<T>): Promise<T> {
    const result = this.writes.then(() => apply(++this.index));
    this.writes = result.catch(() => {});
    return result;
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
}
