/**
 * EtcdClient: a thin etcd v3 client over @grpc/grpc-js, for benchmarks, the fault-injection
 * harness and tests. What it does not do is the point: it never retries, never fails over and
 * never re-creates a watcher or a keep-alive. Each call goes to one endpoint, once, with a
 * deadline, and fails with a ClientError that says whether the request certainly had no effect
 * (see errors.ts). Callers that want retries build them on top, knowing what they retry.
 *
 *   const c = new EtcdClient({ endpoints: ['http://127.0.0.1:2379'] });
 *   await c.put({ key: 'a', value: '1' });
 *   const r = await c.range({ key: 'a' });
 *   c.close();
 */
import * as grpc from '@grpc/grpc-js';
import type * as pb from '../../proto/gen/index.js';
import {
  decodeDeleteRange,
  decodeHeader,
  decodeLeaseGrant,
  decodeLeaseLeases,
  decodeLeaseTimeToLive,
  decodeLock,
  decodeMemberList,
  decodePut,
  decodeRange,
  decodeStatus,
  decodeTxn,
  encodeDeleteRange,
  encodePut,
  encodeRange,
  encodeTxn,
  txnIsReadOnly,
} from './codec.js';
import { ClientError, Status, toClientError } from './errors.js';
import { LeaseKeepAliveStream, WatchStream } from './streams.js';
import type {
  CompactResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  LockResponse,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  UnlockResponse,
} from './types.js';
import { PATHS, decode, encode, fromBigInt, toBuffer, wire, type Bytes, type WireType } from './wire.js';

export const DEFAULT_TIMEOUT_MS = 5000;

export interface ClientOptions {
  /** Client URLs ('http://127.0.0.1:2379') or host:port; one gRPC channel each. */
  readonly endpoints: readonly string[];
  /**
   * Which endpoint a call goes to when the call does not say: 'round-robin' (default) over all
   * endpoints, or always the one at `pinned`.
   */
  readonly balance?: 'round-robin' | { readonly pinned: number };
  /** Deadline of every unary call and keep-alive send, unless the call overrides it. */
  readonly timeoutMs?: number;
  /** Default: insecure (plain-text HTTP/2), as for http:// endpoints. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  /** This call's deadline, from now. */
  readonly timeoutMs?: number;
  /** Index into `endpoints` for this call, overriding the balance policy. */
  readonly endpoint?: number;
}

const identity = (b: Buffer): Buffer => b;

function target(endpoint: string): string {
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(endpoint);
  if (!m?.[2]) throw new Error(`bad endpoint ${JSON.stringify(endpoint)}: want http://host:port or host:port`);
  return m[2];
}

export class EtcdClient {
  readonly endpoints: readonly string[];
  private readonly channels: grpc.Client[];
  private readonly timeoutMs: number;
  private readonly pinned: number | undefined;
  private next = 0;
  private closed = false;

  constructor(opts: ClientOptions) {
    if (opts.endpoints.length === 0) throw new Error('EtcdClient needs at least one endpoint');
    this.endpoints = [...opts.endpoints];
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new Error(`timeoutMs must be > 0, got ${this.timeoutMs}`);
    const balance = opts.balance ?? 'round-robin';
    if (balance !== 'round-robin') {
      if (!Number.isInteger(balance.pinned) || balance.pinned < 0 || balance.pinned >= this.endpoints.length) {
        throw new Error(`pinned endpoint ${balance.pinned} is not an index into ${this.endpoints.length} endpoints`);
      }
      this.pinned = balance.pinned;
    }
    const credentials = opts.credentials ?? grpc.credentials.createInsecure();
    this.channels = this.endpoints.map(
      (ep) =>
        new grpc.Client(target(ep), credentials, {
          // Each client its own connections: a benchmark's clients must not share one socket
          // by accident, and closing this client must not touch another's.
          'grpc.use_local_subchannel_pool': 1,
          'grpc.max_receive_message_length': 64 * 1024 * 1024,
          'grpc.max_send_message_length': 64 * 1024 * 1024,
          ...opts.channelOptions,
        }),
    );
  }

  /** Index of the endpoint a call goes to. */
  private pick(opts: CallOptions | undefined): number {
    if (this.closed) throw new ClientError(Status.CANCELLED, 'client is closed', true, '', '');
    if (opts?.endpoint !== undefined) {
      if (!Number.isInteger(opts.endpoint) || opts.endpoint < 0 || opts.endpoint >= this.channels.length) {
        throw new Error(`endpoint ${opts.endpoint} is not an index into ${this.channels.length} endpoints`);
      }
      return opts.endpoint;
    }
    if (this.pinned !== undefined) return this.pinned;
    const i = this.next;
    this.next = (this.next + 1) % this.channels.length;
    return i;
  }

  private unary<Req, Res, T>(
    method: string,
    requestType: WireType<Req>,
    request: Req,
    responseType: WireType<Res>,
    convert: (d: Res) => T,
    readOnly: boolean,
    opts: CallOptions | undefined,
  ): Promise<T> {
    let i: number;
    try {
      i = this.pick(opts);
    } catch (e) {
      return Promise.reject(e);
    }
    const channel = this.channels[i] as grpc.Client;
    const endpoint = this.endpoints[i] as string;
    const body = encode(requestType, request);
    const deadline = Date.now() + (opts?.timeoutMs ?? this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      channel.makeUnaryRequest(method, identity, identity, body, { deadline }, (err, res) => {
        if (err) {
          reject(toClientError(err, method, endpoint, readOnly));
          return;
        }
        try {
          resolve(convert(decode(responseType, res ?? Buffer.alloc(0))));
        } catch (e) {
          // The request was answered: a write took effect even if we cannot read the answer.
          reject(new ClientError(Status.INTERNAL, `cannot decode the response: ${e instanceof Error ? e.message : String(e)}`, readOnly, method, endpoint, { cause: e }));
        }
      });
    });
  }

  // ---- KV ----------------------------------------------------------------------------------

  range(req: RangeRequest, opts?: CallOptions): Promise<RangeResponse> {
    const w = wire();
    return this.unary(PATHS.Range, w.RangeRequest, encodeRange(req), w.RangeResponse, decodeRange, true, opts);
  }

  put(req: PutRequest, opts?: CallOptions): Promise<PutResponse> {
    const w = wire();
    return this.unary(PATHS.Put, w.PutRequest, encodePut(req), w.PutResponse, decodePut, false, opts);
  }

  deleteRange(req: DeleteRangeRequest, opts?: CallOptions): Promise<DeleteRangeResponse> {
    const w = wire();
    return this.unary(PATHS.DeleteRange, w.DeleteRangeRequest, encodeDeleteRange(req), w.DeleteRangeResponse, decodeDeleteRange, false, opts);
  }

  /** A failed compare is not an error: `succeeded` is false and the failure ops ran. */
  txn(req: TxnRequest, opts?: CallOptions): Promise<TxnResponse> {
    const w = wire();
    return this.unary(PATHS.Txn, w.TxnRequest, encodeTxn(req), w.TxnResponse, decodeTxn, txnIsReadOnly(req), opts);
  }

  compact(revision: number, compactOpts: { physical?: boolean } = {}, opts?: CallOptions): Promise<CompactResponse> {
    const w = wire();
    const m: pb.CompactionRequestIn = compactOpts.physical ? { revision, physical: true } : { revision };
    return this.unary(PATHS.Compact, w.CompactionRequest, m, w.CompactionResponse, (d) => ({ header: decodeHeader(d.header) }), false, opts);
  }

  // ---- Lease -------------------------------------------------------------------------------

  /** `id` 0 or absent: the server picks the id. */
  leaseGrant(ttlSeconds: number, id?: bigint, opts?: CallOptions): Promise<LeaseGrantResponse> {
    const w = wire();
    const m: pb.LeaseGrantRequestIn = id !== undefined && id !== 0n ? { TTL: ttlSeconds, ID: fromBigInt(id) } : { TTL: ttlSeconds };
    return this.unary(PATHS.LeaseGrant, w.LeaseGrantRequest, m, w.LeaseGrantResponse, decodeLeaseGrant, false, opts);
  }

  leaseRevoke(id: bigint, opts?: CallOptions): Promise<LeaseRevokeResponse> {
    const w = wire();
    return this.unary(PATHS.LeaseRevoke, w.LeaseRevokeRequest, { ID: fromBigInt(id) }, w.LeaseRevokeResponse, (d) => ({ header: decodeHeader(d.header) }), false, opts);
  }

  leaseTimeToLive(id: bigint, ttlOpts: { keys?: boolean } = {}, opts?: CallOptions): Promise<LeaseTimeToLiveResponse> {
    const w = wire();
    const m: pb.LeaseTimeToLiveRequestIn = ttlOpts.keys ? { ID: fromBigInt(id), keys: true } : { ID: fromBigInt(id) };
    return this.unary(PATHS.LeaseTimeToLive, w.LeaseTimeToLiveRequest, m, w.LeaseTimeToLiveResponse, decodeLeaseTimeToLive, true, opts);
  }

  leaseLeases(opts?: CallOptions): Promise<LeaseLeasesResponse> {
    const w = wire();
    return this.unary(PATHS.LeaseLeases, w.LeaseLeasesRequest, {}, w.LeaseLeasesResponse, decodeLeaseLeases, true, opts);
  }

  /**
   * Opens a LeaseKeepAlive stream to one endpoint. Each `send` has the call deadline
   * (`opts.timeoutMs` or the client's); the stream itself has none.
   */
  leaseKeepAlive(opts?: CallOptions & { maxPending?: number }): LeaseKeepAliveStream {
    const i = this.pick(opts);
    const call = (this.channels[i] as grpc.Client).makeBidiStreamRequest(PATHS.LeaseKeepAlive, identity, identity);
    return new LeaseKeepAliveStream(call, this.endpoints[i] as string, opts?.timeoutMs ?? this.timeoutMs, opts?.maxPending);
  }

  // ---- Watch -------------------------------------------------------------------------------

  /** Opens a Watch stream to one endpoint; it has no deadline. */
  watch(opts?: Pick<CallOptions, 'endpoint'>): WatchStream {
    const i = this.pick(opts);
    const call = (this.channels[i] as grpc.Client).makeBidiStreamRequest(PATHS.Watch, identity, identity);
    return new WatchStream(call, this.endpoints[i] as string);
  }

  // ---- Lock (v3lockpb) ------------------------------------------------------------------------

  /**
   * Waits until the lock `name` is held with `lease`, and returns the key that holds it (etcd's
   * Mutex: the waiter key `<name>/<lease hex>`, whose create revision orders the waiters). The
   * lock is held while that key exists: until `unlock(key)`, or until the lease expires, so the
   * caller keeps the lease alive while it waits and while it holds. Lease 0 makes the server
   * grant a 60 s lease that nobody keeps alive.
   *
   * The wait has no bound but the deadline: pass `opts.timeoutMs` long enough for the holders
   * ahead. A failure after the waiter key was put (deadline, lost connection) is indefinite: the
   * key may still be queued, and may even hold the lock, until the lease ends. etcd serves this
   * service through an embedded client, so its errors come back as UNKNOWN with etcd's text,
   * which the message rules of errors.ts still classify.
   */
  lock(name: Bytes, lease: bigint, opts?: CallOptions): Promise<LockResponse> {
    const w = wire();
    const m: pb.LockRequestIn = lease !== 0n ? { name: toBuffer(name), lease: fromBigInt(lease) } : { name: toBuffer(name) };
    return this.unary(PATHS.Lock, w.LockRequest, m, w.LockResponse, decodeLock, false, opts);
  }

  /** Releases the lock held by `key` (what `lock` returned) by deleting it; a key that is gone is no error. */
  unlock(key: Bytes, opts?: CallOptions): Promise<UnlockResponse> {
    const w = wire();
    return this.unary(PATHS.Unlock, w.UnlockRequest, { key: toBuffer(key) }, w.UnlockResponse, (d) => ({ header: decodeHeader(d.header) }), false, opts);
  }

  // ---- Maintenance and Cluster ---------------------------------------------------------------

  /** Status of one member: `endpoint` is an index into `endpoints` (default: the balance policy). */
  status(endpoint?: number, opts?: Omit<CallOptions, 'endpoint'>): Promise<StatusResponse> {
    const w = wire();
    return this.unary(PATHS.Status, w.StatusRequest, {}, w.StatusResponse, decodeStatus, true, { ...opts, ...(endpoint === undefined ? {} : { endpoint }) });
  }

  memberList(listOpts: { linearizable?: boolean } = {}, opts?: CallOptions): Promise<MemberListResponse> {
    const w = wire();
    const m: pb.MemberListRequestIn = listOpts.linearizable ? { linearizable: true } : {};
    return this.unary(PATHS.MemberList, w.MemberListRequest, m, w.MemberListResponse, decodeMemberList, true, opts);
  }

  /** Closes every channel; calls in flight fail with CANCELLED or UNAVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.channels) c.close();
  }
}
