/**
 * One TCP listener serving gRPC and HTTP/1.1 on the same port, as etcd's client URLs do (etcd
 * uses cmux). Each new connection is held until its first bytes tell which protocol it speaks:
 *
 * - As soon as a byte differs from the HTTP/2 connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
 *   it is HTTP/1.1 and goes to the node:http server (the JSON gateway).
 * - A connection that sends the whole preface is a gRPC client (HTTP/2 with prior knowledge) and
 *   goes to the gRPC server (grpc-server.ts).
 *
 * Either way the bytes read so far are pushed back into the socket (unshift), so the protocol
 * server reads the connection from its first byte. After the hand-over the socket is theirs.
 */
import net from 'node:net';
import type { Logger } from '../util/index.js';
import { CLIENT_PREFACE } from './h2/frame.js';

export interface ProtocolTargets {
  /** Takes an HTTP/2 connection whose bytes (from the preface on) are still unread. */
  http2(socket: net.Socket): void;
  /** Takes an HTTP/1.x connection whose first bytes are still unread. */
  http1(socket: net.Socket): void;
}

export interface SniffingListener {
  readonly port: number;
  /**
   * Stops accepting and destroys connections not yet handed over; resolves once every
   * connection is gone (the protocol servers close theirs, or destroyConnections does).
   */
  close(): Promise<void>;
  /** Destroys every connection this listener accepted that is still open. */
  destroyConnections(): void;
}

/** How long a new connection may stay silent before it says which protocol it speaks. */
const SNIFF_TIMEOUT_MS = 30_000;

export function listenSniffing(host: string, port: number, targets: ProtocolTargets, logger: Logger): Promise<SniffingListener> {
  /** Connections not handed over yet. */
  const sniffing = new Set<net.Socket>();
  const connections = new Set<net.Socket>();

  const route = (socket: net.Socket): void => {
    connections.add(socket);
    sniffing.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      sniffing.delete(socket);
    });
    // Errors after the hand-over are the protocol server's; before it, the socket just closes.
    const onError = (): void => {};
    socket.on('error', onError);

    let received: Buffer = Buffer.alloc(0);

    const handOver = (target: (s: net.Socket) => void, replay: Buffer): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
      socket.off('timeout', onTimeout);
      sniffing.delete(socket);
      socket.pause();
      socket.unshift(replay);
      target(socket);
      socket.resume();
    };

    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const n = Math.min(received.length, CLIENT_PREFACE.length);
      if (!received.subarray(0, n).equals(CLIENT_PREFACE.subarray(0, n))) return handOver(targets.http1, received);
      if (received.length >= CLIENT_PREFACE.length) handOver(targets.http2, received);
    };

    const onTimeout = (): void => {
      socket.destroy();
    };
    socket.on('data', onData);
    socket.setTimeout(SNIFF_TIMEOUT_MS, onTimeout);
  };

  const server = net.createServer({ noDelay: true }, route);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      server.on('error', (e) => logger.error('api: client listener failed', { host, port, error: e.message }));
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolve({
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sniffing) socket.destroy();
            sniffing.clear();
          }),
        destroyConnections: () => {
          for (const socket of connections) socket.destroy();
          connections.clear();
        },
      });
    });
  });
}
