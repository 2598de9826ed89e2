/**
 * The HTTP/1.1 side of a client port: etcd's grpc-gateway (POST /v3/... and /v3beta/... with
 * JSON bodies, see gateway-routes.ts and json.ts), plus /health and /version.
 *
 * etcd's gateway is a gRPC client of its own server, so it answers exactly what gRPC answers;
 * here a request is decoded into the same message a gRPC call would carry and handed to the
 * same handler. Errors come back as grpc-gateway v1 writes them: HTTP status from the gRPC code,
 * body `{"error":msg,"message":msg,"code":n}`. Every response carries etcd's CORS headers.
 * Streaming RPCs are served by gateway-stream.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GrpcCode } from '../errors.js';
import type { MemberService } from '../server/service.js';
import { assert, type Logger } from '../util/index.js';
import { ApiStatusError, errorBody, httpStatusOf, toWireStatus, unimplemented, type WireStatus } from './errors.js';
import { GATEWAY_PREFIXES, GATEWAY_ROUTES } from './gateway-routes.js';
import { serveStream, type GatewayStreamOptions } from './gateway-stream.js';
import type { UnaryHandler } from './handlers.js';
import { jsonToMessage, messageToJson, type DecodedRequest } from './json.js';
import type { ApiProtos, RpcMethod } from './proto.js';
import type { StreamHandler } from './stream-call.js';
import { CLUSTER_VERSION, SERVER_VERSION } from './version.js';

export interface GatewayOptions {
  readonly protos: ApiProtos;
  readonly handlers: ReadonlyMap<string, UnaryHandler>;
  readonly streamHandlers: ReadonlyMap<string, StreamHandler>;
  readonly service: MemberService;
  readonly logger: Logger;
  /** Larger bodies are refused (RESOURCE_EXHAUSTED), like gRPC's receive limit. */
  readonly maxBodyBytes: number;
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
} as const;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createGateway(options: GatewayOptions): RequestListener {
  const { protos, handlers, logger } = options;
  for (const rpcPath of GATEWAY_ROUTES.values()) assert(protos.methods.has(rpcPath), `gateway route to unknown RPC ${rpcPath}`);

  const sendError = (res: ServerResponse, status: WireStatus): void => {
    send(res, httpStatusOf(status.code), 'application/json', errorBody(status));
  };
  const streamOptions = (method: RpcMethod): GatewayStreamOptions => ({
    logger,
    maxMessageBytes: options.maxBodyBytes,
    corsHeaders: CORS_HEADERS,
    readRequest: async (req) => (await readRequest(req, method, options.maxBodyBytes)).message,
    sendError,
  });

  const serveRpc = async (req: IncomingMessage, res: ServerResponse, rpcPath: string): Promise<void> => {
    const method = protos.methods.get(rpcPath);
    assert(method !== undefined, `no RPC ${rpcPath}`);
    const streamHandler = options.streamHandlers.get(rpcPath);
    if (streamHandler !== undefined && method.responseStream) {
      await serveStream(req, res, method, streamHandler, streamOptions(method));
      return;
    }
    const handler = handlers.get(rpcPath);
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    try {
      // The body is decoded first, as grpc-gateway does before it finds out the RPC fails.
      const decoded = await readRequest(req, method, options.maxBodyBytes);
      if (handler === undefined || method.requestStream || method.responseStream) throw unimplemented(method.name);
      const response = await handler(decoded.message, { requestBytes: () => decoded.encodedBytes, signal: abort.signal });
      send(res, 200, 'application/json', JSON.stringify(messageToJson(method.responseType, response)));
    } catch (e) {
      sendError(res, toWireStatus(e, logger, rpcPath));
    }
  };

  const serveHealth = async (res: ServerResponse): Promise<void> => {
    let healthy = false;
    try {
      healthy = (await options.service.status()).leader !== 0n;
    } catch (e) {
      logger.warn('api: health check failed', { error: e instanceof Error ? e.message : String(e) });
    }
    // etcd writes these bodies without a content type, so Go labels them text/plain.
    send(res, healthy ? 200 : 503, 'text/plain; charset=utf-8', JSON.stringify({ health: String(healthy) }));
  };

  return (req, res) => {
    // Only the path matters; no URL parsing that could throw on what a client sends.
    const pathname = (req.url ?? '/').split('?', 1)[0] as string;
    const method = req.method ?? 'GET';
    if (pathname === '/health' || pathname === '/version') {
      if (method !== 'GET') return plain(res, 405, 'Method Not Allowed');
      if (pathname === '/version') {
        return send(res, 200, 'application/json', JSON.stringify({ etcdserver: SERVER_VERSION, etcdcluster: CLUSTER_VERSION }));
      }
      void serveHealth(res);
      return;
    }
    const prefix = GATEWAY_PREFIXES.find((p) => pathname.startsWith(p));
    if (prefix === undefined) return plain(res, 404, '404 page not found');
    const rpcPath = GATEWAY_ROUTES.get(pathname.slice(prefix.length));
    if (rpcPath === undefined) return plain(res, 404, 'Not Found');
    if (method === 'OPTIONS') return send(res, 200, undefined, '');
    if (method !== 'POST') return plain(res, 405, 'Method Not Allowed');
    void serveRpc(req, res, rpcPath);
  };
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    ...CORS_HEADERS,
    ...(contentType === undefined ? {} : { 'Content-Type': contentType }),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Go's http.Error / NotFound bodies. */
function plain(res: ServerResponse, status: number, text: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`);
}

/** A whole body decoded as the method's request message. */
async function readRequest(req: IncomingMessage, method: RpcMethod, maxBytes: number): Promise<DecodedRequest> {
  return jsonToMessage(method.requestType, await readBody(req, maxBytes));
}

/** The body as UTF-8; a body over the limit is drained and refused. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > maxBytes) {
        reject(new ApiStatusError(GrpcCode.RESOURCE_EXHAUSTED, `request body larger than max (${size} vs. ${maxBytes})`));
      } else {
        resolve(Buffer.concat(chunks).toString('utf8'));
      }
    });
    req.on('error', reject);
  });
}
