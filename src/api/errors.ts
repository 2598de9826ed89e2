/**
 * The one place where errors become wire statuses (etcd's api/v3rpc/util.go togRPCError).
 *
 * - An EtcdError goes out with its gRPC code and etcd's exact message: clients match on the text
 *   (clientv3's rpctypes, the etcd3 npm package's error classes).
 * - An ApiStatusError is a status this layer decides itself (UNIMPLEMENTED, a malformed JSON
 *   body); it goes out as is.
 * - Anything else is a bug or an unexpected failure below: UNKNOWN with its message, logged.
 *
 * The JSON gateway sends the same status as grpc-gateway v1 does: an HTTP status from the gRPC
 * code and a body `{"error": msg, "message": msg, "code": n}`.
 */
import { EtcdError, GrpcCode } from '../errors.js';
import type { Logger } from '../util/index.js';

/** A status decided by the API layer itself, not from the catalog. */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';

  constructor(
    readonly grpcCode: GrpcCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WireStatus {
  readonly code: GrpcCode;
  readonly message: string;
}

/** `method` is the gRPC path (or gateway path) the error came from, for the log line. */
export function toWireStatus(err: unknown, logger: Logger, method: string): WireStatus {
  if (err instanceof EtcdError || err instanceof ApiStatusError) return { code: err.grpcCode, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  logger.error('api: unexpected error', {
    method,
    error: message,
    ...(err instanceof Error && err.stack !== undefined ? { stack: err.stack } : {}),
  });
  return { code: GrpcCode.UNKNOWN, message };
}

/** grpc-go's text for a method a server registers but does not implement. */
export function unimplemented(method: string): ApiStatusError {
  return new ApiStatusError(GrpcCode.UNIMPLEMENTED, `method ${method} not implemented`);
}

/** grpc-gateway v1's runtime.HTTPStatusFromCode, which etcd's gateway uses. */
export function httpStatusOf(code: GrpcCode): number {
  switch (code) {
    case GrpcCode.OK:
      return 200;
    case GrpcCode.CANCELLED:
      return 408;
    case GrpcCode.UNKNOWN:
      return 500;
    case GrpcCode.INVALID_ARGUMENT:
      return 400;
    case GrpcCode.DEADLINE_EXCEEDED:
      return 504;
    case GrpcCode.NOT_FOUND:
      return 404;
    case GrpcCode.ALREADY_EXISTS:
      return 409;
    case GrpcCode.PERMISSION_DENIED:
      return 403;
    case GrpcCode.UNAUTHENTICATED:
      return 401;
    case GrpcCode.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcCode.FAILED_PRECONDITION:
      return 412;
    case GrpcCode.ABORTED:
      return 409;
    case GrpcCode.OUT_OF_RANGE:
      return 400;
    case GrpcCode.UNIMPLEMENTED:
      return 501;
    case GrpcCode.INTERNAL:
      return 500;
    case GrpcCode.UNAVAILABLE:
      return 503;
    case GrpcCode.DATA_LOSS:
      return 500;
  }
}

/** The gateway's error body. */
export function errorBody(status: WireStatus): string {
  return JSON.stringify({ error: status.message, message: status.message, code: status.code });
}
