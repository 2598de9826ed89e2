/**
 * The gRPC side of a client port: every service of proto/ registered on one grpc-js Server, the
 * RPCs that have a handler (unary: handlers.ts; streaming: stream-handlers.ts) served by it,
 * everything else answering UNIMPLEMENTED. The server binds no port itself: listener.ts hands
 * it the HTTP/2 connections of the client ports.
 */
import * as grpc from '@grpc/grpc-js';
import type { WatchResult } from '../server/service.js';
import type { Logger } from '../util/index.js';
import { toWireStatus, unimplemented, type WireStatus } from './errors.js';
import type { UnaryHandler } from './handlers.js';
import type { ApiProtos } from './proto.js';
import { encodeWatchResponse, WATCH_RESULT } from './watch-encode.js';
import { RequestQueue, type StreamHandler } from './stream-call.js';

export interface GrpcServerOptions {
  /** gRPC's receive limit: etcd allows max-request-bytes plus 512 KiB of gRPC overhead. */
  readonly maxReceiveBytes: number;
  readonly logger: Logger;
}

export function createGrpcServer(
  protos: ApiProtos,
  handlers: ReadonlyMap<string, UnaryHandler>,
  streamHandlers: ReadonlyMap<string, StreamHandler>,
  options: GrpcServerOptions,
): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxReceiveBytes,
    'grpc.max_send_message_length': -1,
  });
  // The encoded size of each request, which etcd's RequestTooLarge check counts; filled in as
  // grpc-js deserializes, read by the handler of the same call.
  const requestBytes = new WeakMap<object, number>();

  for (const serviceName of protos.services) {
    const definition = protos.packageDefinition[serviceName] as grpc.ServiceDefinition;
    const measured: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition) as [string, grpc.MethodDefinition<unknown, unknown>][]) {
      measured[name] = {
        ...method,
        ...(method.path === '/etcdserverpb.Watch/Watch' ? { responseSerialize: serializeWatchResponse(method) } : {}),
        requestDeserialize: (bytes: Buffer): unknown => {
          const message = method.requestDeserialize(bytes) as object;
          requestBytes.set(message, bytes.length);
          return message;
        },
      };
      implementation[name] = implementationOf(name, method, handlers, streamHandlers, requestBytes, options.logger);
    }
    server.addService(measured, implementation);
  }
  return server;
}

function implementationOf(
  name: string,
  method: grpc.MethodDefinition<unknown, unknown>,
  handlers: ReadonlyMap<string, UnaryHandler>,
  streamHandlers: ReadonlyMap<string, StreamHandler>,
  requestBytes: WeakMap<object, number>,
  logger: Logger,
): grpc.UntypedHandleCall {
  const streaming = method.requestStream || method.responseStream;
  const handler = streaming ? undefined : handlers.get(method.path);
  if (handler !== undefined) return unaryImplementation(method.path, handler, requestBytes, logger);
  // etcd has no client-streaming RPC: a stream handler serves server-streaming or bidirectional calls.
  const streamHandler = method.responseStream ? streamHandlers.get(method.path) : undefined;
  if (streamHandler !== undefined) return streamImplementation(method, streamHandler, logger);
  return unimplementedImplementation(name, method);
}

function unaryImplementation(
  rpcPath: string,
  handler: UnaryHandler,
  requestBytes: WeakMap<object, number>,
  logger: Logger,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const request = call.request as object;
    // Made only when a handler asks for the signal (Lock, Campaign) or the client cancels:
    // grpc-js reports every finished call as cancelled, and an abort costs a DOMException.
    let abort: AbortController | undefined;
    let finished = false;
    call.on('cancelled', () => {
      if (!finished) (abort ??= new AbortController()).abort();
    });
    const context = {
      requestBytes: () => requestBytes.get(request) ?? 0,
      get signal(): AbortSignal {
        return (abort ??= new AbortController()).signal;
      },
    };
    handler(request, context).then(
      (response) => {
        finished = true;
        callback(null, response);
      },
      (e: unknown) => {
        finished = true;
        callback(serviceError(toWireStatus(e, logger, rpcPath)));
      },
    );
  };
}

type StreamingCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/**
 * A server-streaming or bidirectional call: requests are queued for the handler (a
 * server-streaming call's one request first and last), responses written with the call's
 * backpressure, and the handler's outcome sent as the status.
 */
function streamImplementation(method: grpc.MethodDefinition<unknown, unknown>, handler: StreamHandler, logger: Logger): grpc.UntypedHandleCall {
  return (call: StreamingCall) => {
    const abort = new AbortController();
    const requests = 'request' in call ? new RequestQueue<unknown>(undefined) : new RequestQueue<unknown>(call);
    call.on('cancelled', () => {
      abort.abort();
      requests.end();
    });
    if ('request' in call) {
      requests.push(call.request);
      requests.end();
    } else {
      call.on('data', (m: unknown) => requests.push(m));
      call.on('end', () => requests.end());
    }
    const write = (response: object): Promise<void> => writeWithBackpressure(call, response, abort.signal);
    handler({ requests, write, signal: abort.signal }).then(
      () => {
        if (!abort.signal.aborted) call.end();
      },
      (e: unknown) => {
        const status = toWireStatus(e, logger, method.path);
        if (!abort.signal.aborted) call.emit('error', serviceError(status));
      },
    );
  };
}

/** Writes one response; when grpc-js's buffer is full, resolves on 'drain' (or when the call ends). */
function writeWithBackpressure(call: StreamingCall, response: object, signal: AbortSignal): Promise<void> {
  if (signal.aborted || call.write(response)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function unimplementedImplementation(name: string, method: grpc.MethodDefinition<unknown, unknown>): grpc.UntypedHandleCall {
  const status = serviceError({ code: unimplemented(name).grpcCode, message: unimplemented(name).message });
  if (method.responseStream) {
    // Server-streaming and bidirectional calls end with the status they are sent as 'error'.
    return (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) => {
      call.emit('error', status);
    };
  }
  return (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(status);
}

/** Watch responses that carry their WatchResult are encoded by hand (watch-encode.ts). */
function serializeWatchResponse(method: grpc.MethodDefinition<unknown, unknown>): (m: unknown) => Buffer {
  return (m) => {
    const r = (m as { [WATCH_RESULT]?: WatchResult })[WATCH_RESULT];
    return r !== undefined ? encodeWatchResponse(r) : method.responseSerialize(m);
  };
}

function serviceError(status: WireStatus): grpc.ServiceError {
  return Object.assign(new Error(status.message), {
    code: status.code as number as grpc.status,
    details: status.message,
    metadata: new grpc.Metadata(),
  });
}
