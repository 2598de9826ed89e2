/**
 * The network seam: how connections are opened and accepted. The transport speaks its frames over
 * whatever socket this hands it, so TLS (https:// peer URLs) is a second implementation of this
 * interface rather than a change to the protocol code, and a test can hand in a network that
 * fails dials on purpose.
 */
import net from 'node:net';
import { TransportError } from './errors.js';
import type { PeerUrl } from './peer-url.js';

export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Stops accepting; resolves once the listening socket is closed (accepted ones are the caller's). */
  close(): Promise<void>;
}

export interface Network {
  /** Whether this network can use the URL (scheme); checked when a peer or listener is configured. */
  supports(url: PeerUrl): boolean;
  /**
   * Connects to one URL. Resolves once the connection is usable; rejects with a TransportError
   * (DIAL_FAILED, TIMEOUT, or STOPPED when `signal` aborts), and leaves no socket or timer behind
   * when it rejects.
   */
  connect(url: PeerUrl, timeoutMs: number, signal: AbortSignal): Promise<net.Socket>;
  listen(url: PeerUrl, onConnection: (socket: net.Socket) => void): Promise<Listener>;
}

// Batching happens in the transport, so Nagle's algorithm would only add latency to heartbeats.
// Keep-alive finds a peer whose host vanished without a FIN while the stream is idle.
const KEEPALIVE_DELAY_MS = 5_000;

/**
 * Plain TCP (http:// URLs) whose outgoing connections leave from `localAddress` when given (e.g.
 * 127.0.0.3), so a proxy in front of a peer can tell members apart by source address, as the
 * fault harness does.
 */
export function boundTcpNetwork(localAddress: string | undefined): Network {
  return {
    supports(url) {
      return url.scheme === 'http';
    },

    connect(url, timeoutMs, signal) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(new TransportError('STOPPED', `transport: dial to ${url.text} aborted`));
          return;
        }
        const socket = net.connect({
          host: url.host,
          port: url.port,
          noDelay: true,
          keepAlive: true,
          keepAliveInitialDelay: KEEPALIVE_DELAY_MS,
          ...(localAddress !== undefined ? { localAddress } : {}),
        });
        const cleanup = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          socket.off('connect', onConnect);
          socket.off('error', onError);
        };
        const fail = (err: TransportError): void => {
          cleanup();
          socket.destroy();
          reject(err);
        };
        const onConnect = (): void => {
          cleanup();
          resolve(socket);
        };
        const onError = (err: Error): void => fail(new TransportError('DIAL_FAILED', `transport: dial ${url.text}: ${err.message}`, { cause: err }));
        const onAbort = (): void => fail(new TransportError('STOPPED', `transport: dial to ${url.text} aborted`));
        const timer = setTimeout(() => fail(new TransportError('TIMEOUT', `transport: dial ${url.text}: no connection after ${timeoutMs} ms`)), timeoutMs);
        socket.once('connect', onConnect);
        socket.once('error', onError);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },

    listen(url, onConnection) {
      return new Promise((resolve, reject) => {
        const server = net.createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS }, onConnection);
        const onError = (err: Error): void => {
          server.close();
          reject(new TransportError('BAD_URL', `transport: cannot listen on ${url.text}: ${err.message}`, { cause: err }));
        };
        server.once('error', onError);
        server.listen({ host: url.host, port: url.port }, () => {
          server.off('error', onError);
          const address = server.address();
          const port = typeof address === 'object' && address !== null ? address.port : url.port;
          // After listening, errors on the listening socket are rare (EMFILE on accept): they are
          // per-connection in practice, so they must not become uncaught exceptions.
          server.on('error', () => {});
          resolve({
            host: url.host,
            port,
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      });
    },
  };
}

/** Plain TCP: http:// URLs. */
export const tcpNetwork: Network = boundTcpNetwork(undefined);

/**
 * Tries the URLs in order and resolves with the first that connects; rejects with the last
 * failure once all have failed (or at once when aborted).
 */
export async function dialFirst(
  network: Network,
  urls: readonly PeerUrl[],
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ socket: net.Socket; url: PeerUrl }> {
  let last: unknown = new TransportError('DIAL_FAILED', 'transport: peer has no URLs');
  // Bounded by the number of URLs.
  for (const url of urls) {
    try {
      return { socket: await network.connect(url, timeoutMs, signal), url };
    } catch (err) {
      if (err instanceof TransportError && err.code === 'STOPPED') throw err;
      last = err;
    }
  }
  throw last;
}
