/**
 * Client errors, and whether a failed request certainly had no effect.
 *
 * `definite: true` means the server certainly did not apply the request: the caller (a history
 * checker, a retry policy) may record it as "did not happen". `definite: false` means it may or
 * may not have been applied, now or later: a write that timed out can still commit after the
 * caller gave up. Reads have no effect either way, so a failed read is always definite.
 *
 * The rules live in one table, CLASSIFICATION, matched first on etcd's exact message text (what
 * etcd's own clients match on) and then on the gRPC status code for anything else.
 */
import { catalog } from '../errors.js';

/** gRPC status codes (wire values). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const STATUS_NAMES = new Map<number, string>(Object.entries(Status).map(([k, v]) => [v, k]));

export function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? String(code);
}

interface Rule {
  /** etcd's exact message text, the start of a grpc-js message, or a gRPC status code for messages not listed. */
  readonly match: { readonly message: string } | { readonly prefix: string } | { readonly code: StatusCode };
  readonly definite: boolean;
  /** Why the rule is what it is. */
  readonly why: string;
}

const byMessage = (message: string, definite: boolean, why: string): Rule => ({ match: { message }, definite, why });
const byCode = (code: StatusCode, definite: boolean, why: string): Rule => ({ match: { code }, definite, why });
const byPrefix = (prefix: string, definite: boolean, why: string): Rule => ({ match: { prefix }, definite, why });

/**
 * Every classification, in one place. Message rules win over code rules; a status code with no
 * rule is indefinite (the safe default: claiming "not applied" wrongly breaks checkers, claiming
 * "maybe applied" only costs precision).
 */
export const CLASSIFICATION: readonly Rule[] = [
  // --- etcd messages: rejected before the request is proposed to raft --------------------------
  byMessage(catalog.NoLeader.message, true, 'sent by the server before proposing (the member knows no leader; etcd checks in its interceptor and before forwarding)'),
  byMessage(catalog.NotLeader.message, true, 'a leader-only operation refused by a follower; nothing was proposed'),
  byMessage('etcdserver: raft proposal dropped', true, 'raft refused the proposal locally (no leader, or a leader transfer in progress); it never entered the log'),
  byMessage(catalog.TooManyRequests.message, true, 'back-pressure: the applied index lags the committed one too far, checked before proposing'),
  byMessage(catalog.RequestTooLarge.message, true, 'size checked before proposing'),
  byMessage(catalog.NotCapable.message, true, 'the cluster version does not support the call; checked before proposing'),
  byMessage(catalog.NotSupportedForLearner.message, true, 'a learner refuses the call in its interceptor'),
  byMessage(catalog.Unhealthy.message, true, 'membership change refused before proposing when it would lose quorum'),
  byMessage(catalog.MemberNotEnoughStarted.message, true, 'membership change refused before proposing'),
  // --- etcd messages: proposed, but the apply rejected the request as a whole ------------------
  byMessage(catalog.LeaseNotFound.message, true, 'the apply checks the lease before any write of the request, so nothing was written'),
  byMessage(catalog.LeaseExist.message, true, 'grant of an id in use: the apply writes nothing'),
  byMessage(catalog.LeaseTTLTooLarge.message, true, 'checked before proposing'),
  byMessage(catalog.Compacted.message, true, 'a read (or a txn reading) at a compacted revision: the txn is checked before it writes'),
  byMessage(catalog.FutureRev.message, true, 'a read (or a txn reading) at a future revision: the txn is checked before it writes'),
  byMessage(catalog.NoSpace.message, true, 'the NOSPACE alarm makes the apply refuse writes; nothing was written'),
  byMessage(catalog.Corrupt.message, true, 'the CORRUPT alarm makes the apply refuse requests; nothing was written'),
  byMessage(catalog.KeyNotFound.message, true, 'put with ignore_value/ignore_lease of a missing key: the apply writes nothing'),
  // --- etcd messages: proposed, outcome unknown -------------------------------------------------
  byMessage(catalog.Timeout.message, false, 'the proposal may still commit after the server stopped waiting for it'),
  byMessage(catalog.TimeoutDueToLeaderFail.message, false, 'proposed to a leader that failed; a new leader may still commit the entry'),
  byMessage(catalog.TimeoutDueToConnectionLost.message, false, 'proposed, then the member lost its peers; the entry may commit'),
  byMessage(catalog.LeaderChanged.message, false, 'the leader changed while the request was in flight; its entry may be committed by the new leader'),
  // tsetcd fails proposals in flight at stop with Timeout; Stopped means it was never proposed.
  byMessage(catalog.Stopped.message, true, 'the member was stopping and did not propose the request (in-flight ones get Timeout)'),
  byMessage(catalog.Canceled.message, false, 'the server saw the call cancelled, possibly after proposing it'),
  // --- grpc-js messages ----------------------------------------------------------------------
  byPrefix('No connection established', true, 'grpc-js fails the call before sending it when the channel has no connection (e.g. the member is down)'),
  // --- gRPC status codes, for every other message ----------------------------------------------
  byCode(Status.INVALID_ARGUMENT, true, 'requests are validated before they are proposed'),
  byCode(Status.UNIMPLEMENTED, true, 'no handler ran'),
  byCode(Status.UNAUTHENTICATED, true, 'auth is checked before proposing'),
  byCode(Status.PERMISSION_DENIED, true, 'permissions are checked before any write of the request'),
  byCode(Status.FAILED_PRECONDITION, true, 'etcd uses it for refusals (auth, membership, not leader), all before any write'),
  byCode(Status.NOT_FOUND, true, 'etcd uses it for missing leases and members: nothing to change'),
  byCode(Status.ALREADY_EXISTS, true, 'refusal of a create'),
  byCode(Status.OUT_OF_RANGE, true, 'etcd uses it for revision and TTL bounds, checked before any write'),
  byCode(Status.DEADLINE_EXCEEDED, false, 'the client stopped waiting; the request may have been sent and applied'),
  byCode(Status.CANCELLED, false, 'cancelled after it may have been sent'),
  byCode(Status.UNAVAILABLE, false, 'at the transport level (connection refused, reset, closed) the request may have been sent before the connection broke'),
  byCode(Status.UNKNOWN, false, 'an error we cannot read: assume the worst'),
  byCode(Status.INTERNAL, false, 'could be a broken response to an applied request'),
  byCode(Status.RESOURCE_EXHAUSTED, false, 'grpc-js also uses it for a response too large to receive, which comes after the apply'),
  byCode(Status.ABORTED, false, 'not used by etcd; assume the worst'),
  byCode(Status.DATA_LOSS, false, 'not expected; assume the worst'),
];

const RULES_BY_MESSAGE = new Map<string, Rule>();
const RULES_BY_PREFIX: { prefix: string; rule: Rule }[] = [];
const RULES_BY_CODE = new Map<number, Rule>();
for (const r of CLASSIFICATION) {
  if ('message' in r.match) RULES_BY_MESSAGE.set(r.match.message, r);
  else if ('prefix' in r.match) RULES_BY_PREFIX.push({ prefix: r.match.prefix, rule: r });
  else RULES_BY_CODE.set(r.match.code, r);
}

/** The rule that classifies a failure of a request that may write. */
export function classify(code: number, message: string): { definite: boolean; why: string } {
  const rule = RULES_BY_MESSAGE.get(message) ?? RULES_BY_PREFIX.find((p) => message.startsWith(p.prefix))?.rule ?? RULES_BY_CODE.get(code);
  return rule ? { definite: rule.definite, why: rule.why } : { definite: false, why: 'unclassified status: assume the worst' };
}

/** A failed call. `message` is the server's text unchanged (etcd's, for etcd errors). */
export class ClientError extends Error {
  override readonly name = 'ClientError';

  constructor(
    /** gRPC status code. */
    readonly code: number,
    message: string,
    /** True when the server certainly did not apply the request. */
    readonly definite: boolean,
    /** The method, e.g. '/etcdserverpb.KV/Put', and the endpoint it went to. */
    readonly method: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get statusName(): string {
    return statusName(this.code);
  }
}

interface GrpcErrorShape {
  code: number;
  details: string;
}

function isGrpcError(e: unknown): e is GrpcErrorShape {
  return typeof e === 'object' && e !== null && typeof (e as GrpcErrorShape).code === 'number' && typeof (e as GrpcErrorShape).details === 'string';
}

/**
 * Turns whatever a call failed with into a ClientError. `readOnly` calls are definite whatever
 * happened, since they cannot have changed anything.
 */
export function toClientError(e: unknown, method: string, endpoint: string, readOnly: boolean): ClientError {
  if (e instanceof ClientError) return e;
  const code = isGrpcError(e) ? e.code : Status.UNKNOWN;
  const message = isGrpcError(e) ? e.details : e instanceof Error ? e.message : String(e);
  const definite = readOnly || classify(code, message).definite;
  return new ClientError(code, message, definite, method, endpoint, { cause: e });
}
