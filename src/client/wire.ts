/**
 * The wire types the client speaks, loaded once per process (per worker thread) from proto/ with
 * protobufjs, and the conversions between protobufjs's 64-bit values and ours.
 *
 * Decoding keeps protobufjs's message objects (no toObject pass): 64-bit fields come back as
 * Long-shaped `{ low, high, unsigned }` values and are converted here, losslessly: revisions and
 * counts to `number` (asserted safe, since a revision above 2^53 would be silently rounded), and
 * ids to `bigint`. Encoding hands protobufjs numbers for revisions and `{ low, high }` pairs for
 * bigints, both of which its writer takes directly.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_FILES, protoDir } from '../../proto/index.js';

export interface Wire {
  readonly RangeRequest: protobuf.Type;
  readonly RangeResponse: protobuf.Type;
  readonly PutRequest: protobuf.Type;
  readonly PutResponse: protobuf.Type;
  readonly DeleteRangeRequest: protobuf.Type;
  readonly DeleteRangeResponse: protobuf.Type;
  readonly TxnRequest: protobuf.Type;
  readonly TxnResponse: protobuf.Type;
  readonly CompactionRequest: protobuf.Type;
  readonly CompactionResponse: protobuf.Type;
  readonly WatchRequest: protobuf.Type;
  readonly WatchResponse: protobuf.Type;
  readonly LeaseGrantRequest: protobuf.Type;
  readonly LeaseGrantResponse: protobuf.Type;
  readonly LeaseRevokeRequest: protobuf.Type;
  readonly LeaseRevokeResponse: protobuf.Type;
  readonly LeaseKeepAliveRequest: protobuf.Type;
  readonly LeaseKeepAliveResponse: protobuf.Type;
  readonly LeaseTimeToLiveRequest: protobuf.Type;
  readonly LeaseTimeToLiveResponse: protobuf.Type;
  readonly LeaseLeasesRequest: protobuf.Type;
  readonly LeaseLeasesResponse: protobuf.Type;
  readonly StatusRequest: protobuf.Type;
  readonly StatusResponse: protobuf.Type;
  readonly MemberListRequest: protobuf.Type;
  readonly MemberListResponse: protobuf.Type;
  readonly LockRequest: protobuf.Type;
  readonly LockResponse: protobuf.Type;
  readonly UnlockRequest: protobuf.Type;
  readonly UnlockResponse: protobuf.Type;
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
  if (!protobuf.util.Long) throw new Error('protobufjs has no Long support; 64-bit fields would lose precision');
  const dir = protoDir();
  const root = new protobuf.Root();
  // Imports in proto/ are written relative to proto/ ("mvccpb/kv.proto").
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync([...PROTO_FILES], { keepCase: true });
  root.resolveAll();
  const t = (name: string): protobuf.Type => root.lookupType(`etcdserverpb.${name}`);
  const lock = (name: string): protobuf.Type => root.lookupType(`v3lockpb.${name}`);
  return {
    RangeRequest: t('RangeRequest'),
    RangeResponse: t('RangeResponse'),
    PutRequest: t('PutRequest'),
    PutResponse: t('PutResponse'),
    DeleteRangeRequest: t('DeleteRangeRequest'),
    DeleteRangeResponse: t('DeleteRangeResponse'),
    TxnRequest: t('TxnRequest'),
    TxnResponse: t('TxnResponse'),
    CompactionRequest: t('CompactionRequest'),
    CompactionResponse: t('CompactionResponse'),
    WatchRequest: t('WatchRequest'),
    WatchResponse: t('WatchResponse'),
    LeaseGrantRequest: t('LeaseGrantRequest'),
    LeaseGrantResponse: t('LeaseGrantResponse'),
    LeaseRevokeRequest: t('LeaseRevokeRequest'),
    LeaseRevokeResponse: t('LeaseRevokeResponse'),
    LeaseKeepAliveRequest: t('LeaseKeepAliveRequest'),
    LeaseKeepAliveResponse: t('LeaseKeepAliveResponse'),
    LeaseTimeToLiveRequest: t('LeaseTimeToLiveRequest'),
    LeaseTimeToLiveResponse: t('LeaseTimeToLiveResponse'),
    LeaseLeasesRequest: t('LeaseLeasesRequest'),
    LeaseLeasesResponse: t('LeaseLeasesResponse'),
    StatusRequest: t('StatusRequest'),
    StatusResponse: t('StatusResponse'),
    MemberListRequest: t('MemberListRequest'),
    MemberListResponse: t('MemberListResponse'),
    LockRequest: lock('LockRequest'),
    LockResponse: lock('LockResponse'),
    UnlockRequest: lock('UnlockRequest'),
    UnlockResponse: lock('UnlockResponse'),
  };
}

export function encode(type: protobuf.Type, message: Record<string, unknown>): Buffer {
  const bytes = type.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A decoded message: protobufjs objects are plain records with defaults on the prototype. */
export type Decoded = Record<string, unknown>;

export function decode(type: protobuf.Type, bytes: Uint8Array): Decoded {
  return type.decode(bytes) as unknown as Decoded;
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

/** A bigint as protobufjs's writer takes a 64-bit value (two's complement halves). */
export function fromBigInt(v: bigint): { low: number; high: number; unsigned: boolean } {
  if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new RangeError(`${v} does not fit in 64 bits`);
  const bits = BigInt.asUintN(64, v);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
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
