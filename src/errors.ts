/**
 * The wire error catalog: every error a client can see, with etcd's exact text and gRPC status.
 * Clients match on these strings (etcd's clientv3 and the etcd3 npm package map them back to
 * types), so the texts must stay byte-for-byte what etcd sends.
 *
 * Lower layers throw `EtcdError`s from here; only src/api turns them into gRPC/HTTP statuses.
 * Programmer errors are assertions (src/util/assert.ts), never catalog errors.
 */

/** gRPC status codes (the numeric values are part of the wire protocol). */
export enum GrpcCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

interface CatalogEntry {
  readonly grpcCode: GrpcCode;
  readonly message: string;
}

const entry = (grpcCode: GrpcCode, message: string): CatalogEntry => ({ grpcCode, message });

export const catalog = {
  EmptyKey: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  KeyNotFound: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: key not found'),
  ValueProvided: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  LeaseProvided: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  TooManyOps: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  DuplicateKey: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  InvalidSortOption: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: invalid sort option'),
  Compacted: entry(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  FutureRev: entry(GrpcCode.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  NoSpace: entry(GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),

  LeaseNotFound: entry(GrpcCode.NOT_FOUND, 'etcdserver: requested lease not found'),
  LeaseExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  LeaseTTLTooLarge: entry(GrpcCode.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),

  WatchCanceled: entry(GrpcCode.CANCELLED, 'etcdserver: watch canceled'),

  MemberExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  PeerURLExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  MemberNotEnoughStarted: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: re-configuration failed due to not enough started members'),
  MemberBadURLs: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  MemberNotFound: entry(GrpcCode.NOT_FOUND, 'etcdserver: member not found'),
  MemberNotLearner: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  LearnerNotReady: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'),
  TooManyLearners: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),

  RequestTooLarge: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  TooManyRequests: entry(GrpcCode.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),

  RootUserNotExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: root user does not exist'),
  RootRoleNotExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'),
  UserAlreadyExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: user name already exists'),
  UserEmpty: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: user name is empty'),
  UserNotFound: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: user name not found'),
  RoleAlreadyExist: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role name already exists'),
  RoleNotFound: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role name not found'),
  RoleEmpty: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: role name is empty'),
  AuthFailed: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
  PermissionDenied: entry(GrpcCode.PERMISSION_DENIED, 'etcdserver: permission denied'),
  RoleNotGranted: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'),
  PermissionNotGranted: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'),
  AuthNotEnabled: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  InvalidAuthToken: entry(GrpcCode.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  InvalidAuthMgmt: entry(GrpcCode.INVALID_ARGUMENT, 'etcdserver: invalid auth management'),

  NoLeader: entry(GrpcCode.UNAVAILABLE, 'etcdserver: no leader'),
  NotLeader: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: not leader'),
  LeaderChanged: entry(GrpcCode.UNAVAILABLE, 'etcdserver: leader changed'),
  NotCapable: entry(GrpcCode.UNAVAILABLE, 'etcdserver: not capable'),
  Stopped: entry(GrpcCode.UNAVAILABLE, 'etcdserver: server stopped'),
  Timeout: entry(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out'),
  TimeoutDueToLeaderFail: entry(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'),
  TimeoutDueToConnectionLost: entry(GrpcCode.UNAVAILABLE, 'etcdserver: request timed out, possibly due to connection lost'),
  Unhealthy: entry(GrpcCode.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  Corrupt: entry(GrpcCode.DATA_LOSS, 'etcdserver: corrupt cluster'),
  NotSupportedForLearner: entry(GrpcCode.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  BadLeaderTransferee: entry(GrpcCode.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),

  // etcd's lock and election services run on an embedded client, whose errors reach the wire
  // without a gRPC status: these go out as UNKNOWN (src/api sends the KV errors they meet so too).
  ElectionNoLeader: entry(GrpcCode.UNKNOWN, 'election: no leader'),
  ElectionNotLeader: entry(GrpcCode.UNKNOWN, 'election: not leader'),
  ElectionMissingLeaderKey: entry(GrpcCode.UNKNOWN, '"leader" field must be provided'),
  LostWatcher: entry(GrpcCode.UNKNOWN, 'lost watcher waiting for delete'),
  /** The caller went away (grpc-go's status for a cancelled context). */
  Canceled: entry(GrpcCode.CANCELLED, 'context canceled'),
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof catalog;

/** An expected failure with etcd's wire text. `code` is stable; `message` is etcd's text. */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  readonly grpcCode: GrpcCode;

  constructor(
    readonly code: ErrorCode,
    options?: { cause?: unknown },
  ) {
    super(catalog[code].message, options);
    this.grpcCode = catalog[code].grpcCode;
  }
}

export function etcdError(code: ErrorCode, options?: { cause?: unknown }): EtcdError {
  return new EtcdError(code, options);
}

export function isEtcdError(e: unknown, code?: ErrorCode): e is EtcdError {
  return e instanceof EtcdError && (code === undefined || e.code === code);
}
