/**
 * The peer-link fault proxy (JEPSEN-LITE.md item 3): one TCP listener in front of each member's
 * peer port. The member advertises the proxy's address, so every raft message and forwarded
 * request to it passes here. Members dial from their own loopback source address
 * (TSETCD_PEER_SOURCE_ADDRESS=127.0.0.N), so the proxy knows the sender of each connection and
 * can fault each directed link `from → to` on its own, without root or iptables.
 *
 * A connection carries bytes both ways: the dialer's bytes travel the link dialer → member, the
 * replies travel member → dialer. Each byte direction obeys the faults of the link it travels:
 *
 * - cut (blackhole): bytes are read and thrown away; nothing is forwarded and nothing is closed,
 *   so the sender only learns from its own timeouts, as with a dropped route. A new connection
 *   over a cut link is accepted but never connected onward (its handshake would not complete).
 *   Throwing bytes away breaks the stream's framing, so every connection a cut touched is
 *   destroyed when the link heals; the member reconnects, as after a real partition's resets.
 * - delay (base ± jitter ms per chunk): each chunk is held, order kept (a chunk never leaves
 *   before the one read before it).
 * - drop (fraction p): TCP does not lose bytes, it retransmits them. A lost segment shows up as a
 *   stall of one retransmission timeout, doubling while losses repeat. So each chunk is "lost"
 *   with probability p and then held for an RTO of 200 ms × 2^(consecutive losses - 1), capped at
 *   3.2 s, order kept. At 50 % that is what a peer sees through an iptables 50 % drop: a slow,
 *   stuttering link that still delivers everything in order.
 *
 * A connection from an unknown source (the harness itself) passes untouched. Every random draw
 * comes from a seeded Prng.
 */
import net from 'node:net';
import type { Prng } from '../src/util/prng.js';

export interface LinkFaults {
  cut: boolean;
  delayMs: number;
  jitterMs: number;
  dropFraction: number;
}

const NO_FAULTS: Readonly<LinkFaults> = { cut: false, delayMs: 0, jitterMs: 0, dropFraction: 0 };

/** Retransmission timeout of the first loss, and its cap after doubling. */
const RTO_MIN_MS = 200;
const RTO_MAX_MS = 3200;
/** Queued bytes of one direction above which the source socket is paused (bounded memory). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

/** One byte direction of a proxied connection: reads from `src`, writes to `dst`. */
class Pipe {
  private readonly queue: { at: number; data: Buffer }[] = [];
  private queuedBytes = 0;
  private lastAtMs = 0;
  private losses = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set once a cut threw bytes of this direction away: the stream is broken for good. */
  poisoned = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: () => net.Socket | undefined,
    private readonly faults: () => Readonly<LinkFaults>,
    private readonly prng: Prng,
  ) {}

  push(data: Buffer): void {
    const f = this.faults();
    if (f.cut || this.poisoned) {
      this.poisoned = true;
      return;
    }
    let extraMs = 0;
    if (f.delayMs > 0 || f.jitterMs > 0) extraMs += Math.max(0, f.delayMs + (this.prng.float() * 2 - 1) * f.jitterMs);
    if (f.dropFraction > 0 && this.prng.chance(f.dropFraction)) {
      this.losses++;
      extraMs += Math.min(RTO_MAX_MS, RTO_MIN_MS * 2 ** Math.min(this.losses - 1, 8));
    } else {
      this.losses = 0;
    }
    const now = Date.now();
    if (extraMs === 0 && this.queue.length === 0) {
      this.dst()?.write(data);
      return;
    }
    // Order: never deliver before the chunk queued ahead of this one.
    const at = Math.max(this.lastAtMs, now + extraMs);
    this.lastAtMs = at;
    this.queue.push({ at, data });
    this.queuedBytes += data.length;
    if (this.queuedBytes > MAX_QUEUED_BYTES) this.src.pause();
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, Math.max(0, head.at - Date.now()));
  }

  private flush(): void {
    const now = Date.now();
    const dst = this.dst();
    // Bounded by the queue's length at entry.
    for (let n = this.queue.length; n > 0; n--) {
      const head = this.queue[0];
      if (head === undefined || head.at > now) break;
      this.queue.shift();
      this.queuedBytes -= head.data.length;
      if (this.faults().cut) this.poisoned = true;
      if (!this.poisoned) dst?.write(head.data);
    }
    if (this.queuedBytes <= MAX_QUEUED_BYTES / 2 && this.src.isPaused()) this.src.resume();
    this.schedule();
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

interface Conn {
  readonly from: string | undefined;
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  readonly up: Pipe;
  down: Pipe | undefined;
  /** Accepted while a link was cut: never connected onward, destroyed at heal. */
  held: boolean;
}

/** The proxy in front of one member (`to`); senders are told apart by source address. */
export class PeerProxy {
  private server: net.Server | undefined;
  private readonly conns = new Set<Conn>();
  /** Faults per sending member name, for the link sender → this member, and the reverse. */
  private readonly inbound = new Map<string, LinkFaults>();
  private readonly outbound = new Map<string, LinkFaults>();
  port = 0;

  constructor(
    /** The member behind the proxy. */
    readonly to: string,
    private readonly target: { readonly host: string; readonly port: number },
    /** Source address → member name. */
    private readonly sources: ReadonlyMap<string, string>,
    private readonly prng: Prng,
    private readonly listenPort = 0,
  ) {}

  async listen(): Promise<number> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy: no address');
    this.port = addr.port;
    return this.port;
  }

  /** Sets the faults of one directed link that touches this member; 'in' is from → this member. */
  setLink(direction: 'in' | 'out', peer: string, faults: Partial<LinkFaults>): void {
    const map = direction === 'in' ? this.inbound : this.outbound;
    const cur = map.get(peer) ?? { ...NO_FAULTS };
    map.set(peer, { ...cur, ...faults });
  }

  /** Clears every fault; connections a cut broke are destroyed so the peers reconnect. */
  heal(): void {
    this.inbound.clear();
    this.outbound.clear();
    this.dropBroken();
  }

  /** Destroys connections whose stream a cut broke, once no cut still touches them. */
  dropBroken(): void {
    for (const c of [...this.conns]) {
      if (c.from === undefined) continue;
      const stillCut = this.faultsOf('in', c.from).cut || this.faultsOf('out', c.from).cut;
      if ((c.held || c.up.poisoned || c.down?.poisoned === true) && !stillCut) this.destroy(c);
    }
  }

  /** Open connections, by sender (undefined: unknown source). */
  connections(): { from: string | undefined; held: boolean }[] {
    return [...this.conns].map((c) => ({ from: c.from, held: c.held }));
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) this.destroy(c);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private faultsOf(direction: 'in' | 'out', peer: string | undefined): Readonly<LinkFaults> {
    if (peer === undefined) return NO_FAULTS;
    return (direction === 'in' ? this.inbound : this.outbound).get(peer) ?? NO_FAULTS;
  }

  private accept(client: net.Socket): void {
    const addr = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    const from = this.sources.get(addr);
    const c: Conn = {
      from,
      client,
      upstream: undefined,
      up: new Pipe(client, () => c.upstream, () => this.faultsOf('in', from), this.prng),
      down: undefined,
      held: false,
    };
    this.conns.add(c);
    client.setNoDelay(true);
    client.on('error', () => this.destroy(c));
    client.on('close', () => this.destroy(c));
    client.on('data', (d: Buffer) => c.up.push(d));
    if (this.faultsOf('in', from).cut || this.faultsOf('out', from).cut) {
      // The handshake could not complete over a cut link: hold the socket open, forward nothing.
      c.held = true;
      c.up.poisoned = true;
      return;
    }
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    upstream.setNoDelay(true);
    c.upstream = upstream;
    const down = new Pipe(upstream, () => client, () => this.faultsOf('out', from), this.prng);
    c.down = down;
    upstream.on('data', (d: Buffer) => down.push(d));
    upstream.on('error', () => this.destroy(c));
    upstream.on('close', () => this.destroy(c));
  }

  private destroy(c: Conn): void {
    if (!this.conns.delete(c)) return;
    c.up.close();
    c.down?.close();
    c.client.destroy();
    c.upstream?.destroy();
  }
}

/**
 * Every member's proxy, addressed by directed link. `cut('n1', 'n2')` blackholes what n1 sends
 * to n2 (on n1's connections to n2's proxy, and n1's replies on n2's connections to n1's proxy).
 */
export class LinkFaultNet {
  constructor(private readonly proxies: ReadonlyMap<string, PeerProxy>) {}

  private set(from: string, to: string, faults: Partial<LinkFaults>): void {
    const toProxy = this.proxies.get(to);
    const fromProxy = this.proxies.get(from);
    if (toProxy === undefined || fromProxy === undefined) throw new Error(`no link ${from} -> ${to}`);
    toProxy.setLink('in', from, faults);
    fromProxy.setLink('out', to, faults);
  }

  cut(from: string, to: string): void {
    this.set(from, to, { cut: true });
  }

  delay(from: string, to: string, baseMs: number, jitterMs: number): void {
    if (!(baseMs >= 0 && jitterMs >= 0)) throw new RangeError(`bad delay ${baseMs}±${jitterMs}`);
    this.set(from, to, { delayMs: baseMs, jitterMs });
  }

  drop(from: string, to: string, fraction: number): void {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`bad drop fraction ${fraction}`);
    this.set(from, to, { dropFraction: fraction });
  }

  heal(): void {
    for (const p of this.proxies.values()) p.heal();
  }
}
