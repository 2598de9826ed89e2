/**
 * The unary RPCs, written once against the decoded message shapes (wire.ts) and served by both
 * the gRPC services and the JSON gateway. Each handler validates as etcd's API layer does
 * (validate.ts), calls the MemberService, and builds the response message the way etcd fills it:
 *
 * - KV and Status/Hash/HashKV responses carry the full header from the service.
 * - Cluster responses carry a header without revision (etcd's cluster server leaves it out).
 * - Alarm, Defragment and MoveLeader answer with no header at all, as etcd 3.4 does.
 *
 * Streaming RPCs (Watch, LeaseKeepAlive, Snapshot, Observe) and the Lease, Auth, Lock and
 * Election services have no handler yet; the transports answer them UNIMPLEMENTED.
 */
import { EtcdError } from '../errors.js';
import type { MemberService } from '../server/service.js';
import {
  deleteRangeRequestIn,
  headerOut,
  idIn,
  int64In,
  int64Out,
  kvOut,
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
import type {
  CompactionRequestMsg,
  DeleteRangeRequestMsg,
  HashKVRequestMsg,
  MemberAddRequestMsg,
  MemberIdRequestMsg,
  MemberListRequestMsg,
  MemberUpdateRequestMsg,
  MoveLeaderRequestMsg,
  PutRequestMsg,
  RangeRequestMsg,
  ResponseOut,
  TxnRequestMsg,
} from './wire.js';

/** What a handler knows about the call besides the message. */
export interface CallInfo {
  /** Bytes of the request as encoded protobuf (what etcd's size limit counts). */
  requestBytes(): number;
}

/** `request` is the decoded request message of the method the handler is registered for. */
export type UnaryHandler = (request: unknown, call: CallInfo) => Promise<ResponseOut>;

function unary<Req>(fn: (request: Req, call: CallInfo) => Promise<ResponseOut>): UnaryHandler {
  return (request, call) => fn(request as Req, call);
}

/** The unary handlers by full gRPC path. */
export function createHandlers(service: MemberService): ReadonlyMap<string, UnaryHandler> {
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
  ]);
}
