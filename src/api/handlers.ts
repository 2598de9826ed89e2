/**
 * The unary RPCs, written once against the decoded message shapes (wire.ts) and served by both
 * the gRPC services and the JSON gateway. Each handler validates as etcd's API layer does
 * (validate.ts), calls the MemberService, and builds the response message the way etcd fills it:
 *
 * - KV and Status/Hash/HashKV responses carry the full header from the service.
 * - Cluster responses carry a header without revision (etcd's cluster server leaves it out).
 * - Alarm, Defragment and MoveLeader answer with no header at all, as etcd 3.4 does.
 *
 * - Lock and Election run etcd's recipes (src/server/lock.ts, election.ts). etcd serves them
 *   through an embedded client that drops the gRPC code of what it meets, so every error of
 *   theirs goes out as UNKNOWN with etcd's text (e.g. "etcdserver: requested lease not found").
 *
 * The streaming RPCs are in stream-handlers.ts. Snapshot and the Auth service have no handler
 * yet; the transports answer them UNIMPLEMENTED.
 */
import { EtcdError, GrpcCode } from '../errors.js';
import { campaign, leader, proclaim, resign } from '../server/election.js';
import { lock, unlock, type LockPolicy } from '../server/lock.js';
import type { LeaderKey, MemberService } from '../server/service.js';
import {
  deleteRangeRequestIn,
  headerOut,
  idIn,
  int64IdOut,
  int64In,
  int64Out,
  kvOut,
  leaderKeyIn,
  leaderKeyOut,
  memberOut,
  putRequestIn,
  rangeCallIn,
  responseOpOut,
  txnRequestIn,
} from './convert.js';
import {
  checkDeleteRangeRequest,
  checkPeerURLs,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  isTxnReadOnly,
} from './validate.js';
import { ApiStatusError } from './errors.js';
import type {
  CampaignRequestMsg,
  CompactionRequestMsg,
  DeleteRangeRequestMsg,
  HashKVRequestMsg,
  LeaderKeyMsg,
  LeaderRequestMsg,
  LeaseGrantRequestMsg,
  LeaseIdRequestMsg,
  LeaseTimeToLiveRequestMsg,
  LockRequestMsg,
  MemberAddRequestMsg,
  MemberIdRequestMsg,
  MemberListRequestMsg,
  MemberUpdateRequestMsg,
  MoveLeaderRequestMsg,
  ProclaimRequestMsg,
  PutRequestMsg,
  RangeRequestMsg,
  ResignRequestMsg,
  ResponseOut,
  TxnRequestMsg,
  UnlockRequestMsg,
} from './wire.js';

/** What a handler knows about the call besides the message. */
export interface CallInfo {
  /** Bytes of the request as encoded protobuf (what etcd's size limit counts). */
  requestBytes(): number;
  /** Aborts when the client goes away (cancel, deadline, lost connection). */
  readonly signal: AbortSignal;
}

/** `request` is the decoded request message of the method the handler is registered for. */
export type UnaryHandler = (request: unknown, call: CallInfo) => Promise<ResponseOut>;

function unary<Req>(fn: (request: Req, call: CallInfo) => Promise<ResponseOut>): UnaryHandler {
  return (request, call) => fn(request as Req, call);
}

/** The unary handlers by full gRPC path. */
export function createHandlers(service: MemberService, opts: { readonly lockPolicy?: LockPolicy } = {}): ReadonlyMap<string, UnaryHandler> {
  const { maxRequestBytes, maxTxnOps } = service.limits;

  // etcd refuses a proposal whose encoded request is larger than --max-request-bytes.
  const checkSize = (call: CallInfo): void => {
    if (call.requestBytes() > maxRequestBytes) throw new EtcdError('RequestTooLarge');
  };

  return new Map<string, UnaryHandler>([
    // ---- KV ----
    [
      '/etcdserverpb.KV/Range',
      unary<RangeRequestMsg>(async (m) => {
        checkRangeRequest(m);
        const r = await service.range(rangeCallIn(m));
        return { header: headerOut(r.header), kvs: r.kvs.map(kvOut), more: r.more, count: int64Out(r.count) };
      }),
    ],
    [
      '/etcdserverpb.KV/Put',
      unary<PutRequestMsg>(async (m, call) => {
        checkPutRequest(m);
        checkSize(call);
        const r = await service.put(putRequestIn(m));
        return { header: headerOut(r.header), ...(r.prevKv === undefined ? {} : { prev_kv: kvOut(r.prevKv) }) };
      }),
    ],
    [
      '/etcdserverpb.KV/DeleteRange',
      unary<DeleteRangeRequestMsg>(async (m, call) => {
        checkDeleteRangeRequest(m);
        checkSize(call);
        const r = await service.deleteRange(deleteRangeRequestIn(m));
        return { header: headerOut(r.header), deleted: int64Out(r.deleted), prev_kvs: r.prevKvs.map(kvOut) };
      }),
    ],
    [
      '/etcdserverpb.KV/Txn',
      unary<TxnRequestMsg>(async (m, call) => {
        checkTxnRequest(m, maxTxnOps);
        // A read-only txn is served without a proposal, so etcd does not limit its size.
        if (!isTxnReadOnly(m)) checkSize(call);
        const r = await service.txn(txnRequestIn(m));
        return { header: headerOut(r.header), succeeded: r.succeeded, responses: r.responses.map(responseOpOut) };
      }),
    ],
    [
      '/etcdserverpb.KV/Compact',
      unary<CompactionRequestMsg>(async (m, call) => {
        checkSize(call);
        const r = await service.compact(int64In(m.revision), m.physical);
        return { header: headerOut(r.header) };
      }),
    ],

    // ---- Cluster ----
    [
      '/etcdserverpb.Cluster/MemberAdd',
      unary<MemberAddRequestMsg>(async (m) => {
        checkPeerURLs(m.peerURLs);
        const r = await service.memberAdd(m.peerURLs, m.isLearner);
        return {
          header: headerOut(r.header, false),
          ...(r.member === undefined ? {} : { member: memberOut(r.member) }),
          members: r.members.map(memberOut),
        };
      }),
    ],
    [
      '/etcdserverpb.Cluster/MemberRemove',
      unary<MemberIdRequestMsg>(async (m) => {
        const r = await service.memberRemove(idIn(m.ID));
        return { header: headerOut(r.header, false), members: r.members.map(memberOut) };
      }),
    ],
    [
      '/etcdserverpb.Cluster/MemberUpdate',
      unary<MemberUpdateRequestMsg>(async (m) => {
        // etcd checks the URLs of MemberAdd only; an update's are checked by the server.
        const r = await service.memberUpdate(idIn(m.ID), m.peerURLs);
        return { header: headerOut(r.header, false), members: r.members.map(memberOut) };
      }),
    ],
    [
      '/etcdserverpb.Cluster/MemberList',
      unary<MemberListRequestMsg>(async (m) => {
        const r = await service.memberList(m.linearizable);
        return { header: headerOut(r.header, false), members: r.members.map(memberOut) };
      }),
    ],
    [
      '/etcdserverpb.Cluster/MemberPromote',
      unary<MemberIdRequestMsg>(async (m) => {
        const r = await service.memberPromote(idIn(m.ID));
        return { header: headerOut(r.header, false), members: r.members.map(memberOut) };
      }),
    ],

    // ---- Maintenance ----
    [
      '/etcdserverpb.Maintenance/Status',
      unary<object>(async () => {
        const r = await service.status();
        return {
          header: headerOut(r.header),
          version: r.version,
          dbSize: int64Out(r.dbSize),
          leader: r.leader.toString(),
          raftIndex: int64Out(r.raftIndex),
          raftTerm: int64Out(r.raftTerm),
          raftAppliedIndex: int64Out(r.raftAppliedIndex),
          errors: r.errors,
          dbSizeInUse: int64Out(r.dbSizeInUse),
          isLearner: r.isLearner,
        };
      }),
    ],
    [
      '/etcdserverpb.Maintenance/HashKV',
      unary<HashKVRequestMsg>(async (m) => {
        const r = await service.hashKV(int64In(m.revision));
        return { header: headerOut(r.header), hash: r.hash, compact_revision: int64Out(r.compactRevision) };
      }),
    ],
    [
      // etcd hashes its whole bbolt file here; a member's database is private to it, so the
      // closest meaningful answer is the hash of the key space at the current revision.
      '/etcdserverpb.Maintenance/Hash',
      unary<object>(async () => {
        const r = await service.hashKV(0);
        return { header: headerOut(r.header), hash: r.hash };
      }),
    ],
    [
      '/etcdserverpb.Maintenance/MoveLeader',
      unary<MoveLeaderRequestMsg>(async (m) => {
        await service.moveLeader(idIn(m.targetID));
        return {};
      }),
    ],
    // No alarms are raised yet (the NOSPACE quota arrives with the server's quota).
    ['/etcdserverpb.Maintenance/Alarm', unary<object>(() => Promise.resolve({ alarms: [] }))],
    // LevelDB compacts itself; there is nothing to defragment.
    ['/etcdserverpb.Maintenance/Defragment', unary<object>(() => Promise.resolve({}))],

    ...leaseHandlers(service),
    ...lockHandlers(service, opts.lockPolicy),
    ...electionHandlers(service),
  ]);
}

function leaseHandlers(service: MemberService): [string, UnaryHandler][] {
  return [
    [
      '/etcdserverpb.Lease/LeaseGrant',
      unary<LeaseGrantRequestMsg>(async (m) => {
        const r = await service.leaseGrant(int64In(m.TTL), idIn(m.ID));
        return { header: headerOut(r.header), ID: int64IdOut(r.id), TTL: int64Out(r.ttl) };
      }),
    ],
    [
      '/etcdserverpb.Lease/LeaseRevoke',
      unary<LeaseIdRequestMsg>(async (m) => {
        const r = await service.leaseRevoke(idIn(m.ID));
        return { header: headerOut(r.header) };
      }),
    ],
    [
      '/etcdserverpb.Lease/LeaseTimeToLive',
      unary<LeaseTimeToLiveRequestMsg>(async (m) => {
        const r = await service.leaseTimeToLive(idIn(m.ID), m.keys);
        return { header: headerOut(r.header), ID: int64IdOut(r.id), TTL: int64Out(r.ttl), grantedTTL: int64Out(r.grantedTtl), keys: r.keys };
      }),
    ],
    [
      '/etcdserverpb.Lease/LeaseLeases',
      unary<object>(async () => {
        const r = await service.leaseLeases();
        return { header: headerOut(r.header), leases: r.leases.map((id) => ({ ID: int64IdOut(id) })) };
      }),
    ],
  ];
}

/** A Lock or Election handler: its errors lose their gRPC code, as behind etcd's embedded client. */
function embedded<Req>(fn: (request: Req, call: CallInfo) => Promise<ResponseOut>): UnaryHandler {
  return async (request, call) => {
    try {
      return await fn(request as Req, call);
    } catch (e) {
      if (e instanceof EtcdError && e.code !== 'Canceled') throw new ApiStatusError(GrpcCode.UNKNOWN, e.message, { cause: e });
      throw e;
    }
  };
}

function lockHandlers(service: MemberService, policy: LockPolicy | undefined): [string, UnaryHandler][] {
  return [
    [
      '/v3lockpb.Lock/Lock',
      embedded<LockRequestMsg>(async (m, call) => {
        const r = await lock(service, m.name, idIn(m.lease), call.signal, policy);
        return { header: headerOut(r.header), key: r.key };
      }),
    ],
    [
      '/v3lockpb.Lock/Unlock',
      embedded<UnlockRequestMsg>(async (m) => {
        const r = await unlock(service, m.key);
        return { header: headerOut(r.header) };
      }),
    ],
  ];
}

/** etcd's election server refuses a Proclaim or Resign without a leader key. */
function requiredLeader(m: { readonly leader: LeaderKeyMsg | null }): LeaderKey {
  if (m.leader === null) throw new EtcdError('ElectionMissingLeaderKey');
  return leaderKeyIn(m.leader);
}

function electionHandlers(service: MemberService): [string, UnaryHandler][] {
  return [
    [
      '/v3electionpb.Election/Campaign',
      embedded<CampaignRequestMsg>(async (m, call) => {
        const r = await campaign(service, { name: m.name, lease: idIn(m.lease), value: m.value }, call.signal);
        return { header: headerOut(r.header), leader: leaderKeyOut(r.leader) };
      }),
    ],
    [
      '/v3electionpb.Election/Proclaim',
      embedded<ProclaimRequestMsg>(async (m) => {
        const r = await proclaim(service, requiredLeader(m), m.value);
        return { header: headerOut(r.header) };
      }),
    ],
    [
      '/v3electionpb.Election/Leader',
      embedded<LeaderRequestMsg>(async (m) => {
        const r = await leader(service, m.name);
        return { header: headerOut(r.header), kv: kvOut(r.kv) };
      }),
    ],
    [
      '/v3electionpb.Election/Resign',
      embedded<ResignRequestMsg>(async (m) => {
        const r = await resign(service, requiredLeader(m));
        return { header: headerOut(r.header) };
      }),
    ],
  ];
}
