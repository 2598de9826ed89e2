import type { Socket } from 'node:net';
/**
 * One member's peer transport: an outbound stream per peer (peer.ts), the listeners that accept
 * peers' streams and snapshots (inbound.ts), and snapshot sends (snapshot-sender.ts).
 *
 * Callbacks run on socket and timer events, never from inside send(): the server may step raft
 * from onUnreachable without re-entering the code that called send().
 */
import { assert } from '../util/assert.js';
import { nopLogger, type Logger } from '../util/logger.js';
import { resolveConfig, type TransportConfig } from './config.js';
import { plainCodec } from './codec.js';
import { TransportError } from './errors.js';
import { InboundConnection, type InboundContext } from './inbound.js';
import { tcpNetwork, type Listener, type Network } from './network.js';
import { Peer, type PeerContext } from './peer.js';
import { formatPeerUrl, parsePeerUrl, type PeerUrl } from './peer-url.js';
import { RateGate } from './rate-gate.js';
import { SnapshotSend } from './snapshot-sender.js';
import {
  emptyPeerStats,
  idHex,
  type ListenAddress,
  type PeerMessage,
  type PeerStats,
  type SnapshotInfo,
  type TransportOptions,
  type TransportStats,
} from './types.js';

export interface TransportDeps {
  /** The seam for TLS and for tests; plain TCP by default. */
  readonly network?: Network;
}

type Lifecycle = 'new' | 'starting' | 'running' | 'stopped';

export class Transport {
  readonly id: bigint;
  readonly clusterId: bigint;
  private readonly config: TransportConfig;
  private readonly logger: Logger;
  private readonly network: Network;
  private readonly listenUrls: readonly PeerUrl[];
  private lifecycle: Lifecycle = 'new';
  private listeners: Listener[] = [];
  /** Invariant: a peer's stats entry exists exactly while the peer does. */
  private readonly peers = new Map<bigint, Peer>();
  private readonly peerStats = new Map<bigint, PeerStats>();
  private readonly inbound = new Set<InboundConnection>();
  /** The current inbound stream of each peer; an older one is closed when a newer arrives. */
  private readonly streamsFrom = new Map<bigint, InboundConnection>();
  private readonly snapshotSends = new Map<SnapshotSend, AbortController>();
  private readonly pendingUnreachable = new Set<bigint>();
  private unreachableImmediate: NodeJS.Immediate | undefined;
  private readonly unknownTargetLog = new RateGate(1000);
  private unknownTargetDrops = 0;
  private rejectedConnections = 0;
  private protocolErrors = 0;
  private readonly peerCtx: PeerContext;
  private readonly inboundCtx: InboundContext;

  constructor(
    private readonly options: TransportOptions,
    deps: TransportDeps = {},
  ) {
    assert(typeof options.id === 'bigint' && options.id > 0n && options.id < 1n << 64n, 'transport: id must be a non-zero u64 bigint');
    assert(typeof options.clusterId === 'bigint' && options.clusterId >= 0n && options.clusterId < 1n << 64n, 'transport: clusterId must be a u64 bigint');
    this.id = options.id;
    this.clusterId = options.clusterId;
    this.config = resolveConfig(options);
    this.logger = options.logger ?? nopLogger;
    this.network = deps.network ?? tcpNetwork;
    this.listenUrls = options.listenPeerUrls.map((u) => this.checkedUrl(u));
    const random = options.random ?? Math.random;
    const codec = options.codec ?? plainCodec;
    this.peerCtx = {
      selfId: this.id,
      clusterId: this.clusterId,
      config: this.config,
      network: this.network,
      logger: this.logger,
      random,
      codec,
      reportUnreachable: (id) => this.queueUnreachable(id),
      peerStatus: (id, active) => this.options.onPeerStatus?.(id, active),
    };
    this.inboundCtx = {
      selfId: this.id,
      clusterId: this.clusterId,
      config: this.config,
      logger: this.logger,
      codec,
      isPeer: (id) => this.peers.has(id),
      statsOf: (id) => this.peerStats.get(id),
      onMessages: (msgs) => this.options.onMessages(msgs),
      onSnapshot: (header: object, body: AsyncIterable<Uint8Array>, info: SnapshotInfo) => this.options.onSnapshot(header, body, info),
      streamAccepted: (conn) => this.streamAccepted(conn),
      closed: (conn) => this.inboundClosed(conn),
      countRejected: () => this.rejectedConnections++,
      countProtocolError: () => this.protocolErrors++,
    };
  }

  /** Listens on every listenPeerUrl; resolves with the bound addresses (real ports for port 0). */
  async start(): Promise<ListenAddress[]> {
    assert(this.lifecycle === 'new', `transport: start() in state ${this.lifecycle}`);
    this.lifecycle = 'starting';
    const bound: ListenAddress[] = [];
    try {
      for (const url of this.listenUrls) {
        const listener = await this.network.listen(url, (socket) => {
          if (this.lifecycle === 'stopped') {
            socket.destroy();
          } else if (this.inbound.size >= this.config.maxInboundConnections) {
            this.rejectedConnections++;
            this.logger.warn('transport: too many peer connections; closing a new one', { remote: socket.remoteAddress, limit: this.config.maxInboundConnections });
            socket.destroy();
          } else if (this.options.onHttp) {
            this.sniff(socket);
          } else {
            this.inbound.add(new InboundConnection(this.inboundCtx, socket));
          }
        });
        this.listeners.push(listener);
        if (this.isStopped()) break;
        bound.push({ url: formatPeerUrl(url.scheme, listener.host, listener.port), host: listener.host, port: listener.port });
      }
    } catch (err) {
      const listeners = this.listeners;
      this.listeners = [];
      await Promise.all(listeners.map((l) => l.close()));
      if (!this.isStopped()) this.lifecycle = 'new';
      throw err;
    }
    // stop() may have run while we were binding; it closed what was bound by then.
    if (this.isStopped()) {
      await Promise.all(this.listeners.splice(0).map((l) => l.close()));
      throw new TransportError('STOPPED', 'transport: stopped while starting');
    }
    this.lifecycle = 'running';
    this.logger.info('transport: listening for peers', { member: idHex(this.id), urls: bound.map((b) => b.url) });
    return bound;
  }

  /**
   * Closes everything: listeners, streams, snapshot transfers (sendSnapshot rejects with STOPPED,
   * inbound bodies fail), timers. Final: send() is a no-op afterwards.
   */
  async stop(): Promise<void> {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    if (this.unreachableImmediate !== undefined) clearImmediate(this.unreachableImmediate);
    this.unreachableImmediate = undefined;
    this.pendingUnreachable.clear();
    for (const peer of this.peers.values()) peer.close();
    for (const abort of this.snapshotSends.values()) abort.abort();
    for (const conn of this.inbound) conn.close('transport stopped');
    const listeners = this.listeners.splice(0);
    await Promise.all(listeners.map((l) => l.close()));
    this.logger.info('transport: stopped', { member: idHex(this.id) });
  }

  /** Starts a stream to the peer (dialing its URLs in order). An existing peer gets the new URLs. */
  addPeer(id: bigint, urls: readonly string[]): void {
    this.checkPeerId(id);
    if (this.lifecycle === 'stopped') return;
    const parsed = this.checkedUrls(urls);
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.setUrls(parsed);
      return;
    }
    const stats = emptyPeerStats();
    this.peerStats.set(id, stats);
    this.peers.set(id, new Peer(this.peerCtx, id, parsed, stats));
    this.logger.info('transport: peer added', { peer: idHex(id), urls: parsed.map((u) => u.text) });
  }

  /** New URLs for a peer: a connection to a URL still listed is kept, otherwise it redials. */
  updatePeer(id: bigint, urls: readonly string[]): void {
    this.checkPeerId(id);
    if (this.lifecycle === 'stopped') return;
    const parsed = this.checkedUrls(urls);
    const peer = this.peers.get(id);
    if (peer === undefined) {
      this.logger.warn('transport: updatePeer for an unknown peer ignored', { peer: idHex(id) });
      return;
    }
    peer.setUrls(parsed);
    this.logger.info('transport: peer updated', { peer: idHex(id), urls: parsed.map((u) => u.text) });
  }

  /** Stops all traffic with the peer, both ways: its queue is dropped, its connections closed. */
  removePeer(id: bigint): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.close();
    this.peers.delete(id);
    this.peerStats.delete(id);
    this.pendingUnreachable.delete(id);
    for (const [send, abort] of this.snapshotSends) if (send.to === id) abort.abort();
    for (const conn of this.inbound) if (conn.from === id) conn.close('peer removed');
    this.logger.info('transport: peer removed', { peer: idHex(id) });
  }

  /**
   * Queues each message for the peer named by its `to`. Never blocks and never throws for a peer
   * that is down or unknown: the message is dropped (counted, and for a known peer reported
   * through onUnreachable). Messages must not be mutated afterwards: they are encoded when their
   * batch is flushed, on a later turn.
   */
  send(msgs: readonly PeerMessage[]): void {
    if (this.lifecycle === 'stopped') return;
    for (const m of msgs) {
      assert(typeof m.to === 'bigint', 'transport: message without a bigint `to`');
      assert(m.to !== this.id, 'transport: a message to this member itself must not reach the transport');
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.unknownTargetDrops++;
        if (this.unknownTargetLog.tryPass(Date.now())) {
          this.logger.warn('transport: dropping message to an unknown peer', { to: idHex(m.to), type: m.type, drops: this.unknownTargetDrops });
        }
        continue;
      }
      peer.enqueue(m);
    }
  }

  /**
   * Streams a snapshot to the peer on a connection of its own. Resolves once the receiver's
   * onSnapshot finished with it; rejects with a TransportError otherwise (the server reports the
   * outcome to raft with reportSnapshot). The body is pulled only as fast as the peer reads.
   */
  async sendSnapshot(to: bigint, header: object, body: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.lifecycle === 'stopped') throw new TransportError('STOPPED', 'transport: stopped');
    const peer = this.peers.get(to);
    const stats = this.peerStats.get(to);
    if (peer === undefined || stats === undefined) throw new TransportError('UNKNOWN_PEER', `transport: member ${idHex(to)} is not a peer`);
    if (this.snapshotSends.size >= this.config.maxSnapshotSends) {
      stats.snapshotsSendFailed++;
      throw new TransportError('BUSY', `transport: already sending ${this.snapshotSends.size} snapshots`);
    }
    const abort = new AbortController();
    const send = new SnapshotSend(this.peerCtx, to, peer.peerUrls, stats, abort.signal);
    this.snapshotSends.set(send, abort);
    this.logger.info('transport: sending snapshot to peer', { peer: idHex(to) });
    try {
      await send.run(header, body);
      stats.snapshotsSent++;
      this.logger.info('transport: snapshot sent to peer', { peer: idHex(to), bytes: send.bytesSent });
    } catch (err) {
      stats.snapshotsSendFailed++;
      this.logger.warn('transport: snapshot to peer failed', { peer: idHex(to), bytes: send.bytesSent, error: (err as Error).message });
      throw err;
    } finally {
      this.snapshotSends.delete(send);
    }
  }

  /** Copies of the counters (prom-client in server reads these at scrape time). */
  /**
   * Peek at a new connection's first bytes: an HTTP request goes to onHttp, anything else is a
   * peer handshake. Our frames start with a big-endian length, which never spells an HTTP
   * method in ASCII for the small handshake frame.
   */
  private sniff(socket: Socket): void {
    const onHttp = this.options.onHttp;
    // A connection that says nothing is closed like one that never handshakes.
    const silent = setTimeout(() => socket.destroy(), this.config.handshakeTimeoutMs);
    socket.once('close', () => clearTimeout(silent));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(silent);
      socket.pause();
      socket.unshift(chunk);
      if (onHttp && /^(GET|HEAD|POST|PUT) /.test(chunk.subarray(0, 5).toString('latin1'))) {
        onHttp(socket);
      } else if (this.lifecycle === 'stopped') {
        socket.destroy();
      } else {
        this.inbound.add(new InboundConnection(this.inboundCtx, socket));
        socket.resume();
      }
    });
    socket.once('error', () => socket.destroy());
  }

  stats(): TransportStats {
    const peers = new Map<bigint, PeerStats>();
    for (const [id, s] of this.peerStats) peers.set(id, { ...s });
    return {
      peers,
      unknownTargetDrops: this.unknownTargetDrops,
      rejectedConnections: this.rejectedConnections,
      protocolErrors: this.protocolErrors,
    };
  }

  /** The outbound stream to the peer is up. */
  isActive(id: bigint): boolean {
    return this.peers.get(id)?.isOpen ?? false;
  }

  // A method, not a field comparison: the compiler would narrow `lifecycle` across awaits in start().
  private isStopped(): boolean {
    return this.lifecycle === 'stopped';
  }

  private checkPeerId(id: bigint): void {
    assert(typeof id === 'bigint' && id > 0n && id < 1n << 64n, 'transport: peer id must be a non-zero u64 bigint');
    assert(id !== this.id, 'transport: a member is not its own peer');
  }

  private checkedUrl(text: string): PeerUrl {
    const url = parsePeerUrl(text);
    if (!this.network.supports(url)) throw new TransportError('BAD_URL', `transport: ${url.scheme}:// peer URLs are not supported by this network (${text})`);
    return url;
  }

  private checkedUrls(urls: readonly string[]): PeerUrl[] {
    if (urls.length === 0) throw new TransportError('BAD_URL', 'transport: a peer needs at least one URL');
    return urls.map((u) => this.checkedUrl(u));
  }

  // One immediate delivers every report queued during a turn, so a burst of drops costs one
  // callback per peer, and never runs inside send().
  private queueUnreachable(id: bigint): void {
    if (this.lifecycle === 'stopped') return;
    this.pendingUnreachable.add(id);
    this.unreachableImmediate ??= setImmediate(() => {
      this.unreachableImmediate = undefined;
      const ids = [...this.pendingUnreachable];
      this.pendingUnreachable.clear();
      for (const peerId of ids) if (this.peers.has(peerId)) this.options.onUnreachable(peerId);
    });
  }

  private streamAccepted(conn: InboundConnection): void {
    const older = this.streamsFrom.get(conn.from);
    this.streamsFrom.set(conn.from, conn);
    older?.close('replaced by a newer stream from the same peer');
  }

  private inboundClosed(conn: InboundConnection): void {
    this.inbound.delete(conn);
    if (this.streamsFrom.get(conn.from) === conn) this.streamsFrom.delete(conn.from);
  }
}
