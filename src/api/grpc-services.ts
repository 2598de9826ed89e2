/**
 * The gRPC side of a client port: every service of proto/ registered on one grpc-js Server, the
 * unary RPCs that have a handler served by it, everything else answering UNIMPLEMENTED. The
 * server binds no port itself: listener.ts hands it the HTTP/2 connections of the client ports.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../util/index.js';
import { toWireStatus, unimplemented, type WireStatus } from './errors.js';
import type { UnaryHandler } from './handlers.js';
import type { ApiProtos } from './proto.js';

export interface GrpcServerOptions {
  /** gRPC's receive limit: etcd allows max-request-bytes plus 512 KiB of gRPC overhead. */
  readonly maxReceiveBytes: number;
  readonly logger: Logger;
}

export function createGrpcServer(
  protos: ApiProtos,
  handlers: ReadonlyMap<string, UnaryHandler>,
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
        requestDeserialize: (bytes: Buffer): unknown => {
          const message = method.requestDeserialize(bytes) as object;
          requestBytes.set(message, bytes.length);
          return message;
        },
      };
      const handler = handlers.get(method.path);
      implementation[name] =
        handler !== undefined && !method.requestStream && !method.responseStream
          ? unaryImplementation(method.path, handler, requestBytes, options.logger)
          : unimplementedImplementation(name, method);
    }
    server.addService(measured, implementation);
  }
  return server;
}

function unaryImplementation(
  rpcPath: string,
  handler: UnaryHandler,
  requestBytes: WeakMap<object, number>,
  logger: Logger,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const request = call.request as object;
    handler(request, { requestBytes: () => requestBytes.get(request) ?? 0 }).then(
      (response) => callback(null, response),
      (e: unknown) => callback(serviceError(toWireStatus(e, logger, rpcPath))),
    );
  };
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

function serviceError(status: WireStatus): grpc.ServiceError {
  return Object.assign(new Error(status.message), {
    code: status.code as number as grpc.status,
    details: status.message,
    metadata: new grpc.Metadata(),
  });
}
