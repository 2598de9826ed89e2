/**
 * The HTTP side of the peer port: how a PeerRequest (env.ts) travels between real members.
 * The server side decodes the path into a request and hands it to the member; the client side
 * encodes it, with one keep-alive agent per member. etcd's own peer route `GET /members` keeps
 * etcd's shape (a JSON list, the cluster id in `X-Etcd-Cluster-ID`); the rest are ours.
 *
 *   GET  /members                        → [{id, name, peerURLs, clientURLs, isLearner}]
 *   POST /members/promote/<id>           → {}
 *   POST /leases/keepalive/<id>,<id>,... → {ttls: [n, ...]}
 *   GET  /leases/ttl/<id>?keys=0|1       → {ttl, grantedTtl, keys: [base64, ...]}
 *
 * Ids are unpadded hex of their unsigned 64 bits (member ids are uint64, lease ids int64). A failed request answers 412 with
 * {code, message} (code: the error catalog's), anything else unknown 500.
 */
import http, { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { catalog, type ErrorCode } from '../errors.js';
import type { PeerAnswer, PeerReply, PeerRequest } from './env.js';
import { idToHex } from './ids.js';
import type { Member } from './service.js';

/** Forwarded keep-alives per request at most (ids in the path: ~9 KiB). */
export const MAX_FORWARDED_KEEPALIVES = 512;

/** A route the test entry point adds (e.g. `PUT /test/...`); true when it answered. */
export type ExtraPeerRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

type Serve = <R extends PeerRequest>(req: R) => Promise<PeerReply<R['kind']>>;

// ---- the request line --------------------------------------------------------------------------

function toHex(id: bigint): string {
  return idToHex(BigInt.asUintN(64, id));
}

/** A lease id (int64) from its unsigned hex. */
function leaseFromHex(h: string): bigint {
  return BigInt.asIntN(64, BigInt(`0x${h}`));
}

/** A member id (uint64) from its hex. */
function memberFromHex(h: string): bigint {
  return BigInt(`0x${h}`);
}

export function requestLine(req: PeerRequest): { method: 'GET' | 'POST'; path: string } {
  switch (req.kind) {
    case 'members':
      return { method: 'GET', path: '/members' };
    case 'promote':
      return { method: 'POST', path: `/members/promote/${toHex(req.id)}` };
    case 'keepalive':
      return { method: 'POST', path: `/leases/keepalive/${req.ids.map(toHex).join(',')}` };
    case 'ttl':
      return { method: 'GET', path: `/leases/ttl/${toHex(req.id)}?keys=${req.keys ? 1 : 0}` };
  }
}

export function parseRequestLine(method: string, pathAndQuery: string): PeerRequest | undefined {
  const url = new URL(pathAndQuery, 'http://peer');
  const p = url.pathname;
  if (method === 'GET' && p === '/members') return { kind: 'members' };
  const promote = /^\/members\/promote\/([0-9a-f]{1,16})$/.exec(p);
  if (method === 'POST' && promote) return { kind: 'promote', id: memberFromHex(promote[1] as string) };
  const keepAlive = /^\/leases\/keepalive\/([0-9a-f]{1,16}(?:,[0-9a-f]{1,16})*)$/.exec(p);
  if (method === 'POST' && keepAlive) return { kind: 'keepalive', ids: (keepAlive[1] as string).split(',', MAX_FORWARDED_KEEPALIVES).map(leaseFromHex) };
  const ttl = /^\/leases\/ttl\/([0-9a-f]{1,16})$/.exec(p);
  if (method === 'GET' && ttl) return { kind: 'ttl', id: leaseFromHex(ttl[1] as string), keys: url.searchParams.get('keys') === '1' };
  return undefined;
}

// ---- bodies ------------------------------------------------------------------------------------

interface MemberJson {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

function encodeAnswer(kind: PeerRequest['kind'], answer: PeerAnswer<PeerRequest['kind']>): unknown {
  switch (kind) {
    case 'members':
      return (answer as PeerAnswer<'members'>).members.map((m): MemberJson => ({ id: idToHex(m.id), name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs], isLearner: m.isLearner }));
    case 'ttl': {
      const t = answer as PeerAnswer<'ttl'>;
      return { ttl: t.ttl, grantedTtl: t.grantedTtl, keys: t.keys.map((k) => Buffer.from(k).toString('base64')) };
    }
    default:
      return answer;
  }
}

/** The answer to `kind` from its JSON body (and the cluster-id header); throws on a malformed one. */
function decodeAnswer(kind: PeerRequest['kind'], body: unknown, clusterIdHeader: string | undefined): PeerAnswer<PeerRequest['kind']> {
  const bad = (): Error => new Error(`malformed ${kind} answer: ${JSON.stringify(body).slice(0, 200)}`);
  switch (kind) {
    case 'members': {
      if (!Array.isArray(body)) throw bad();
      const members: Member[] = (body as MemberJson[]).map((m) => ({ id: BigInt(`0x${m.id}`), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner ?? false }));
      return { clusterId: BigInt(`0x${clusterIdHeader ?? '0'}`), members };
    }
    case 'keepalive': {
      const ttls = (body as { ttls?: unknown }).ttls;
      if (!Array.isArray(ttls) || !ttls.every((t) => typeof t === 'number')) throw bad();
      return { ttls };
    }
    case 'ttl': {
      const t = body as { ttl?: unknown; grantedTtl?: unknown; keys?: unknown };
      if (typeof t.ttl !== 'number' || typeof t.grantedTtl !== 'number' || !Array.isArray(t.keys)) throw bad();
      return { ttl: t.ttl, grantedTtl: t.grantedTtl, keys: (t.keys as string[]).map((k) => Buffer.from(k, 'base64')) };
    }
    default:
      return {};
  }
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(catalog, code);
}

// ---- server side -------------------------------------------------------------------------------

/**
 * The peer port's HTTP handler for sockets the transport hands over (connections that open with
 * an HTTP request rather than a raft handshake).
 */
export function peerHttpHandler(serve: Serve, clusterId: () => bigint, extra?: ExtraPeerRoute): { handle(socket: Socket): void; close(): void } {
  const server = createServer((req, res) => {
    const request = parseRequestLine(req.method ?? 'GET', req.url ?? '/');
    if (request === undefined) {
      if (extra?.(req, res) === true) return;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    serve(request).then(
      (reply) => {
        if (reply.ok) {
          res.writeHead(200, { 'content-type': 'application/json', 'x-etcd-cluster-id': idToHex(clusterId()) });
          res.end(JSON.stringify(encodeAnswer(request.kind, reply.answer)));
        } else {
          res.writeHead(412, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: reply.code ?? 'Internal', message: reply.message }));
        }
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'Internal', message: String(e) }));
      },
    );
  });
  return {
    handle(socket) {
      server.emit('connection', socket);
      socket.resume();
    },
    close() {
      server.closeAllConnections();
    },
  };
}

// ---- client side -------------------------------------------------------------------------------

/**
 * Requests one member makes to another's peer port. One keep-alive agent per member, so a
 * follower forwarding many keep-alives reuses its connections; `localAddress` makes them leave
 * from the same source address as the raft traffic (see boundTcpNetwork).
 */
export class PeerClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly localAddress: string | undefined) {}

  async request<R extends PeerRequest>(base: string, req: R, timeoutMs: number): Promise<PeerReply<R['kind']>> {
    const line = requestLine(req);
    const res = await this.send(new URL(line.path, base), line.method, timeoutMs);
    if (res.status === 200) return { ok: true, answer: decodeAnswer(req.kind, res.body, res.clusterId) as PeerAnswer<R['kind']> };
    const body = res.body as { code?: unknown; message?: unknown };
    return { ok: false, code: isErrorCode(body.code) ? body.code : undefined, message: typeof body.message === 'string' ? body.message : `HTTP ${res.status}` };
  }

  private send(url: URL, method: string, timeoutMs: number): Promise<{ status: number; body: unknown; clusterId: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method,
          agent: this.agent,
          timeout: timeoutMs,
          ...(this.localAddress !== undefined ? { localAddress: this.localAddress } : {}),
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let body: unknown = {};
            try {
              body = JSON.parse(text);
            } catch {
              // not JSON: an empty body
            }
            const h = res.headers['x-etcd-cluster-id'];
            resolve({ status: res.statusCode ?? 0, body, clusterId: typeof h === 'string' ? h : undefined });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
