/**
 * tsetcd's own etcd v3 client: one export list, picked by hand.
 */
export { EtcdClient, DEFAULT_TIMEOUT_MS, type CallOptions, type ClientOptions } from './client.js';
export { CLASSIFICATION, ClientError, Status, classify, statusName, type StatusCode } from './errors.js';
export { LeaseKeepAliveStream, WatchStream } from './streams.js';
export { DEFAULT_SESSION_TTL_S, Mutex, Session, prefixEnd } from './concurrency.js';
export type {
  Bytes,
  CompactResponse,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  LockResponse,
  Member,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  UnlockResponse,
  WatchCreateRequest,
  WatchEvent,
  WatchResponse,
} from './types.js';
