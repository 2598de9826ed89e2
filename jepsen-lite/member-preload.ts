/**
 * Loaded into each member process by the harness (`node --import tsx --import <this>`): makes
 * the member's TCP connections to the peer proxies leave from its own loopback address
 * (TSETCD_PEER_SOURCE_ADDRESS), so the proxies can tell which member is talking.
 *
 * The member is meant to do this itself (test-hooks.ts, TSETCD_PEER_SOURCE_ADDRESS), but its
 * raft transport does not yet receive the bound network (src/server/member.ts passes `network`
 * in the options instead of Transport's second, deps argument), so its raft streams leave from
 * 127.0.0.1 and every link fault would miss. This shim sets `localAddress` only on connections
 * to the ports in TSETCD_HARNESS_PROXY_PORTS that do not already choose one, so it is a no-op
 * once the member binds its connections itself.
 */
import net from 'node:net';

const source = process.env['TSETCD_PEER_SOURCE_ADDRESS'];
const ports = new Set((process.env['TSETCD_HARNESS_PROXY_PORTS'] ?? '').split(',').filter((p) => p !== '').map(Number));

if (source !== undefined && source !== '' && ports.size > 0) {
  const connect = net.Socket.prototype.connect;
  // net.connect and http.Agent call socket.connect with normalized args: [[options, cb]].
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
    const first = args[0];
    const opts = (Array.isArray(first) ? first[0] : first) as (net.TcpSocketConnectOpts & { localAddress?: string }) | undefined;
    if (opts !== null && typeof opts === 'object' && ports.has(Number(opts.port)) && opts.localAddress === undefined) {
      const host = opts.host ?? '127.0.0.1';
      if (host === '127.0.0.1' || host === 'localhost') opts.localAddress = source;
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;
}
