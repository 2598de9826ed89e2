/**
 * The simulated peer network (env.ts PeerNetwork) between the members of one simulation.
 *
 * Members are nodes ('n1', ...) listening on their peer URLs. A raft message goes through the
 * peer stream's encoding (src/server/raft-codec.ts, so the receiver never shares the sender's
 * objects and every message the simulation sends crosses the real wire format), then lost, delayed or
 * reordered as the seed says; partitions are directed cuts between nodes, checked when a message
 * is due, so a cut also loses what was in flight. Snapshots and PeerRequests take the same links.
 * A message to a node that is down or cut away makes the sender hear `onUnreachable`, at most
 * once per peer per 100 ms, as the real transport reports it.
 */
import type { Message } from '../../src/raft/index.js';
import type { PeerEndpoint, PeerHandlers, PeerNetwork, PeerReply, PeerRequest } from '../../src/server/env.js';
import { raftMessageCodec } from '../../src/server/raft-codec.js';
import { arrayHeaderBytes, decodeBatch } from '../../src/transport/codec.js';
import type { Prng } from '../../src/util/prng.js';
import type { Owner, Scheduler } from './scheduler.js';

export interface NetParams {
  /** Base one-way delay (ms); each message takes it plus up to `jitterMs`. */
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Probability that a raft message is lost. */
  readonly lossRate: number;
}

interface Listener {
  readonly node: string;
  readonly owner: Owner;
  readonly handlers: PeerHandlers;
}

const UNREACHABLE_GAP_MS = 100;

/** A message as its receiver decodes it from a one-message batch frame body. */
function overTheWire(m: Message): Message {
  const body = Buffer.alloc(1 + raftMessageCodec.encodedBytes(m));
  body.set(arrayHeaderBytes(1), 0);
  const end = raftMessageCodec.encodeInto(m, body, 1);
  if (end !== body.length) throw new Error(`raft-codec wrote ${end} bytes of a message measured at ${body.length}`);
  return decodeBatch(body, m.to, m.from, raftMessageCodec)[0] as Message;
}

export class SimNetwork {
  private readonly byUrl = new Map<string, Listener>();
  private readonly cuts = new Set<string>();
  /** Calm (while checking the end state): no loss and no extra delay. */
  calm = false;

  constructor(
    private readonly sched: Scheduler,
    private readonly prng: Prng,
    private readonly params: NetParams,
  ) {}

  /** Cuts every link between the two sides, both ways. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) {
      this.cuts.add(`${x}>${y}`);
      this.cuts.add(`${y}>${x}`);
    }
  }

  heal(): void {
    this.cuts.clear();
  }

  get partitioned(): boolean {
    return this.cuts.size > 0;
  }

  private linked(from: string, to: string): boolean {
    return !this.cuts.has(`${from}>${to}`);
  }

  private delay(): number {
    if (this.calm) return this.params.delayMs;
    return this.params.delayMs + this.prng.float() * this.params.jitterMs;
  }

  /** The listener at url that `from` can reach now, if any. */
  private reach(from: string, url: string): Listener | undefined {
    const l = this.byUrl.get(url);
    return l !== undefined && l.owner.alive && this.linked(from, l.node) ? l : undefined;
  }

  /** Node `node`'s view of the network, for one incarnation. */
  viewFor(node: string, owner: Owner): PeerNetwork {
    return {
      listen: async (me, handlers) => this.listen(node, owner, me.listenPeerUrls, handlers),
      request: (url, req, timeoutMs) => this.request(node, owner, url, req, timeoutMs),
      close: () => undefined,
    };
  }

  private listen(node: string, owner: Owner, urls: readonly string[], handlers: PeerHandlers): PeerEndpoint {
    const listener: Listener = { node, owner, handlers };
    for (const u of urls) this.byUrl.set(u, listener);
    const peers = new Map<bigint, readonly string[]>();
    const lastUnreachable = new Map<bigint, number>();
    const unreachable = (id: bigint): void => {
      const last = lastUnreachable.get(id);
      if (last !== undefined && this.sched.now - last < UNREACHABLE_GAP_MS) return;
      lastUnreachable.set(id, this.sched.now);
      this.sched.at(0, owner, () => handlers.onUnreachable(id));
    };
    const target = (id: bigint): Listener | undefined => {
      for (const u of peers.get(id) ?? []) {
        const l = this.reach(node, u);
        if (l !== undefined) return l;
      }
      return undefined;
    };
    return {
      addPeer: (id, u) => peers.set(id, [...u]),
      removePeer: (id) => peers.delete(id),
      send: (msgs) => {
        for (const m of msgs) {
          const to = target(m.to);
          if (to === undefined) {
            unreachable(m.to);
            continue;
          }
          if (!this.calm && this.prng.chance(this.params.lossRate)) continue;
          const copy = overTheWire(m);
          this.sched.at(this.delay(), to.owner, () => {
            // Cut while in flight (a receiver that died drops the event with its owner).
            if (!this.linked(node, to.node)) return;
            to.handlers.onMessages([copy]);
          });
        }
      },
      sendSnapshot: async (toId, header, body) => {
        const chunks: Uint8Array[] = [];
        for await (const c of body) chunks.push(new Uint8Array(c));
        const to = target(toId);
        if (to === undefined) {
          unreachable(toId);
          throw new Error(`snapshot to ${toId.toString(16)}: unreachable`);
        }
        const copy = structuredClone(header) as Message;
        await this.deliver(owner, to, node, async () => to.handlers.onSnapshot(copy, iterate(chunks)), 30_000);
      },
      close: async () => {
        for (const u of urls) if (this.byUrl.get(u) === listener) this.byUrl.delete(u);
      },
    };
  }

  private async request<R extends PeerRequest>(node: string, owner: Owner, url: string, req: R, timeoutMs: number): Promise<PeerReply<R['kind']>> {
    const to = this.reach(node, url);
    if (to === undefined) {
      // Refused at once when nobody listens (a dead process's port is closed); a cut link
      // answers nothing until the deadline.
      const l = this.byUrl.get(url);
      const cut = l !== undefined && l.owner.alive;
      await this.sched.sleep(cut ? timeoutMs : this.delay(), owner);
      throw new Error(`request ${req.kind} to ${url}: ${cut ? 'no answer' : 'connection refused'}`);
    }
    const copy = structuredClone(req);
    const reply = await this.deliver(owner, to, node, () => to.handlers.serve(copy), timeoutMs);
    return structuredClone(reply) as PeerReply<R['kind']>;
  }

  /**
   * Runs `serve` on the receiver one delay from now and hands its answer back one delay later;
   * rejects after timeoutMs, or when a link is cut or the receiver dies on the way.
   */
  private deliver<T>(owner: Owner, to: Listener, from: string, serve: () => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        fn();
      };
      this.sched.at(timeoutMs, owner, () => settle(() => reject(new Error(`to ${to.node}: no answer in ${timeoutMs} ms`))));
      this.sched.at(this.delay(), to.owner, () => {
        if (!this.linked(from, to.node)) return;
        serve().then(
          (v) => this.sched.at(this.delay(), owner, () => this.linked(to.node, from) && settle(() => resolve(v))),
          (e: unknown) => this.sched.at(this.delay(), owner, () => settle(() => reject(e as Error))),
        );
      });
    });
  }
}

async function* iterate(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const c of chunks) yield c;
}
