/**
 * The wire types the client speaks, loaded once per process (per worker thread) from proto/ with
 * protobufjs, and the conversions between protobufjs's 64-bit values and ours.
 *
 * Decoding keeps protobufjs's message objects (no toObject pass): 64-bit fields come back as
 * Long-shaped `{ low, high, unsigned }` values and are converted here, losslessly: revisions and
 * counts to `number` (asserted safe, since a revision above 2^53 would be silently rounded), and
 * ids to `bigint`. Encoding hands protobufjs numbers for revisions and decimal strings for
 * bigints, both of which its writer takes directly. The message types come from proto/gen.
 */
import type protobuf from 'protobufjs';
import protobufjs from 'protobufjs';
import type * as pb from '../../proto/gen/index.js';
import { protoRoot } from '../../proto/index.js';

/**
 * One message type of the wire and the TypeScript type of its messages (proto/gen's input type:
 * what encode() takes, and what decode()'s message objects hold).
 */
export interface WireType<M> {
  readonly type: protobuf.Type;
  /** Never set: it carries M. */
  readonly message?: M;
}

export interface Wire {
  readonly RangeRequest: WireType<pb.RangeRequestIn>;
  readonly RangeResponse: WireType<pb.RangeResponseIn>;
  readonly PutRequest: WireType<pb.PutRequestIn>;
  readonly PutResponse: WireType<pb.PutResponseIn>;
  readonly DeleteRangeRequest: WireType<pb.DeleteRangeRequestIn>;
  readonly DeleteRangeResponse: WireType<pb.DeleteRangeResponseIn>;
  readonly TxnRequest: WireType<pb.TxnRequestIn>;
  readonly TxnResponse: WireType<pb.TxnResponseIn>;
  readonly CompactionRequest: WireType<pb.CompactionRequestIn>;
  readonly CompactionResponse: WireType<pb.CompactionResponseIn>;
  readonly WatchRequest: WireType<pb.WatchRequestIn>;
  readonly WatchResponse: WireType<pb.WatchResponseIn>;
  readonly LeaseGrantRequest: WireType<pb.LeaseGrantRequestIn>;
  readonly LeaseGrantResponse: WireType<pb.LeaseGrantResponseIn>;
  readonly LeaseRevokeRequest: WireType<pb.LeaseRevokeRequestIn>;
  readonly LeaseRevokeResponse: WireType<pb.LeaseRevokeResponseIn>;
  readonly LeaseKeepAliveRequest: WireType<pb.LeaseKeepAliveRequestIn>;
  readonly LeaseKeepAliveResponse: WireType<pb.LeaseKeepAliveResponseIn>;
  readonly LeaseTimeToLiveRequest: WireType<pb.LeaseTimeToLiveRequestIn>;
  readonly LeaseTimeToLiveResponse: WireType<pb.LeaseTimeToLiveResponseIn>;
  readonly LeaseLeasesRequest: WireType<pb.LeaseLeasesRequestIn>;
  readonly LeaseLeasesResponse: WireType<pb.LeaseLeasesResponseIn>;
  readonly StatusRequest: WireType<pb.StatusRequestIn>;
  readonly StatusResponse: WireType<pb.StatusResponseIn>;
  readonly MemberListRequest: WireType<pb.MemberListRequestIn>;
  readonly MemberListResponse: WireType<pb.MemberListResponseIn>;
  readonly LockRequest: WireType<pb.LockRequestIn>;
  readonly LockResponse: WireType<pb.LockResponseIn>;
  readonly UnlockRequest: WireType<pb.UnlockRequestIn>;
  readonly UnlockResponse: WireType<pb.UnlockResponseIn>;
}

/** gRPC paths of the methods the client calls (etcd's service and method names). */
export const PATHS = {
  Range: '/etcdserverpb.KV/Range',
  Put: '/etcdserverpb.KV/Put',
  DeleteRange: '/etcdserverpb.KV/DeleteRange',
  Txn: '/etcdserverpb.KV/Txn',
  Compact: '/etcdserverpb.KV/Compact',
  Watch: '/etcdserverpb.Watch/Watch',
  LeaseGrant: '/etcdserverpb.Lease/LeaseGrant',
  LeaseRevoke: '/etcdserverpb.Lease/LeaseRevoke',
  LeaseKeepAlive: '/etcdserverpb.Lease/LeaseKeepAlive',
  LeaseTimeToLive: '/etcdserverpb.Lease/LeaseTimeToLive',
  LeaseLeases: '/etcdserverpb.Lease/LeaseLeases',
  Status: '/etcdserverpb.Maintenance/Status',
  MemberList: '/etcdserverpb.Cluster/MemberList',
  Lock: '/v3lockpb.Lock/Lock',
  Unlock: '/v3lockpb.Lock/Unlock',
} as const;

let loaded: Wire | undefined;

export function wire(): Wire {
  loaded ??= load();
  return loaded;
}

function load(): Wire {
  // Without the `long` package protobufjs decodes int64 into doubles, losing ids above 2^53.
  if (!protobufjs.util.Long) throw new Error('protobufjs has no Long support; 64-bit fields would lose precision');
  const root = protoRoot();
  const t = <M>(name: string): WireType<M> => ({ type: root.lookupType(name) });
  return {
    RangeRequest: t('etcdserverpb.RangeRequest'),
    RangeResponse: t('etcdserverpb.RangeResponse'),
    PutRequest: t('etcdserverpb.PutRequest'),
    PutResponse: t('etcdserverpb.PutResponse'),
    DeleteRangeRequest: t('etcdserverpb.DeleteRangeRequest'),
    DeleteRangeResponse: t('etcdserverpb.DeleteRangeResponse'),
    TxnRequest: t('etcdserverpb.TxnRequest'),
    TxnResponse: t('etcdserverpb.TxnResponse'),
    CompactionRequest: t('etcdserverpb.CompactionRequest'),
    CompactionResponse: t('etcdserverpb.CompactionResponse'),
    WatchRequest: t('etcdserverpb.WatchRequest'),
    WatchResponse: t('etcdserverpb.WatchResponse'),
    LeaseGrantRequest: t('etcdserverpb.LeaseGrantRequest'),
    LeaseGrantResponse: t('etcdserverpb.LeaseGrantResponse'),
    LeaseRevokeRequest: t('etcdserverpb.LeaseRevokeRequest'),
    LeaseRevokeResponse: t('etcdserverpb.LeaseRevokeResponse'),
    LeaseKeepAliveRequest: t('etcdserverpb.LeaseKeepAliveRequest'),
    LeaseKeepAliveResponse: t('etcdserverpb.LeaseKeepAliveResponse'),
    LeaseTimeToLiveRequest: t('etcdserverpb.LeaseTimeToLiveRequest'),
    LeaseTimeToLiveResponse: t('etcdserverpb.LeaseTimeToLiveResponse'),
    LeaseLeasesRequest: t('etcdserverpb.LeaseLeasesRequest'),
    LeaseLeasesResponse: t('etcdserverpb.LeaseLeasesResponse'),
    StatusRequest: t('etcdserverpb.StatusRequest'),
    StatusResponse: t('etcdserverpb.StatusResponse'),
    MemberListRequest: t('etcdserverpb.MemberListRequest'),
    MemberListResponse: t('etcdserverpb.MemberListResponse'),
    LockRequest: t('v3lockpb.LockRequest'),
    LockResponse: t('v3lockpb.LockResponse'),
    UnlockRequest: t('v3lockpb.UnlockRequest'),
    UnlockResponse: t('v3lockpb.UnlockResponse'),
  };
}

export function encode<M>(t: WireType<M>, message: NoInfer<M>): Buffer {
  const bytes = t.type.encode(message as Record<string, unknown>).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A decoded message: protobufjs's message object, read through its generated type. */
export function decode<M>(t: WireType<M>, bytes: Uint8Array): M {
  return t.type.decode(bytes) as unknown as M;
}

/** What protobufjs produces for an int64/uint64 field: a Long, or a number for small defaults. */
type LongLike = { low: number; high: number; unsigned?: boolean } | number | string;

const TWO_32 = 2 ** 32;

/** A 64-bit integer field as a number; throws rather than round a value above 2^53. */
export function toNumber(v: unknown): number {
  if (v === undefined || v === null) return 0;
  const l = v as LongLike;
  let n: number;
  if (typeof l === 'number') n = l;
  else if (typeof l === 'string') n = Number(l);
  else n = (l.unsigned ? l.high >>> 0 : l.high | 0) * TWO_32 + (l.low >>> 0);
  if (!Number.isSafeInteger(n)) throw new RangeError(`64-bit value ${String(toBigInt(v))} is not a safe integer`);
  return n;
}

/** A 64-bit integer field as a bigint, signed or unsigned as the field is declared. */
export function toBigInt(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  const l = v as LongLike;
  if (typeof l === 'number') return BigInt(l);
  if (typeof l === 'string') return BigInt(l);
  const bits = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  return l.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** A bigint as protobufjs's writer takes a 64-bit value: its decimal text (int64 or uint64). */
export function fromBigInt(v: bigint): string {
  if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new RangeError(`${v} does not fit in 64 bits`);
  return v.toString();
}

/** Keys and values: Buffers out; strings (UTF-8), Buffers and Uint8Arrays in. */
export type Bytes = string | Uint8Array;

export function toBuffer(b: Bytes): Buffer {
  if (typeof b === 'string') return Buffer.from(b, 'utf8');
  if (Buffer.isBuffer(b)) return b;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * A bytes field of a decoded message: protobufjs gives a Buffer (a view of the received bytes,
 * no copy) for a present field, and its default, an empty array, for an absent one.
 */
export function bufferOf(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return EMPTY;
  if (Array.isArray(v)) return Buffer.from(v as number[]);
  throw new TypeError(`not a bytes field: ${typeof v}`);
}

const EMPTY = Buffer.alloc(0);
