/**
 * startApiServer: a member's client API on its client URLs. Each URL gets one listener that
 * serves gRPC and the HTTP/JSON gateway on the same port (listener.ts); behind them sit one
 * gRPC server (grpc-server.ts, on our own HTTP/2) and one node:http server (gateway.ts), both
 * calling the same handlers (handlers.ts, stream-handlers.ts) on the MemberService.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { MemberService } from '../server/service.js';
import type { LockPolicy } from '../server/lock.js';
import { nopLogger, type Logger } from '../util/index.js';
import { createGateway } from './gateway.js';
import { createGrpcServer } from './grpc-server.js';
import { createHandlers } from './handlers.js';
import { createStreamHandlers } from './stream-handlers.js';
import { listenSniffing, type SniffingListener } from './listener.js';
import { apiProtos } from './proto.js';

export interface ApiServerOptions {
  /** URLs to serve clients on, e.g. `http://127.0.0.1:2379`; port 0 picks a free port. */
  readonly listenClientUrls: readonly string[];
  readonly logger?: Logger;
  /** The Lock service's policy (test entry points only; etcd's by default). */
  readonly lockPolicy?: LockPolicy;
}

export interface ApiServer {
  /** The port each listen URL is bound to, in order. */
  readonly ports: readonly number[];
  /** Stops accepting and closes every connection (in-flight calls are cancelled). */
  close(): Promise<void>;
}

/** etcd lets a gRPC message be this much larger than --max-request-bytes (grpcOverheadBytes). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export async function startApiServer(service: MemberService, options: ApiServerOptions): Promise<ApiServer> {
  const logger = options.logger ?? nopLogger;
  const addresses = options.listenClientUrls.map(parseListenUrl);
  const protos = apiProtos();
  const handlers = createHandlers(service, options.lockPolicy ? { lockPolicy: options.lockPolicy } : {});
  const streamHandlers = createStreamHandlers(service);
  const maxReceiveBytes = service.limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;

  const grpcServer = createGrpcServer(protos, handlers, streamHandlers, { maxReceiveBytes, logger });
  // JSON carries bytes as base64 (4/3 larger) plus field names: allow twice gRPC's limit.
  const httpServer = http.createServer(createGateway({ protos, handlers, streamHandlers, service, logger, maxBodyBytes: 2 * maxReceiveBytes }));
  const targets = {
    http2: (socket: Socket) => grpcServer.serve(socket),
    http1: (socket: Socket) => {
      httpServer.emit('connection', socket);
    },
  };

  const listeners: SniffingListener[] = [];
  const close = async (): Promise<void> => {
    const closed = listeners.map((l) => l.close());
    grpcServer.close();
    httpServer.closeAllConnections();
    httpServer.close();
    for (const l of listeners) l.destroyConnections();
    await Promise.all(closed);
  };

  try {
    for (const { host, port } of addresses) {
      const listener = await listenSniffing(host, port, targets, logger);
      listeners.push(listener);
      logger.info('api: serving client requests', { address: `${host}:${listener.port}`, protocols: 'grpc, http' });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { ports: listeners.map((l) => l.port), close };
}

function parseListenUrl(raw: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (e) {
    throw new Error(`invalid listen client URL ${JSON.stringify(raw)}`, { cause: e });
  }
  if (url.protocol !== 'http:') {
    throw new Error(`listen client URL ${JSON.stringify(raw)}: only http:// is supported (TLS is not implemented yet)`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`listen client URL ${JSON.stringify(raw)} must not have a path`);
  }
  // new URL keeps the brackets of an IPv6 host; listen() wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port === '' ? 80 : Number(url.port) };
}
