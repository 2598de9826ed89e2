/** Shared by the cluster tests: etcd3 clients per member, polling, and a write load. */
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { LocalMember } from '../../cluster/local-cluster.js';

export class Clients {
  private readonly byUrl = new Map<string, Etcd3>();

  /** One endpoint per client, so a request goes where we say; no retries hide failures. */
  of(m: LocalMember): Etcd3 {
    let c = this.byUrl.get(m.clientUrl);
    if (!c) {
      c = new Etcd3({ hosts: m.clientUrl, faultHandling: { global: noop, host: () => noop } });
      this.byUrl.set(m.clientUrl, c);
    }
    return c;
  }

  closeAll(): void {
    for (const c of this.byUrl.values()) c.close();
    this.byUrl.clear();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function leaderOf(clients: Clients, members: readonly LocalMember[]): Promise<LocalMember | undefined> {
  for (const m of members) {
    try {
      const st = await clients.of(m).maintenance.status();
      if (st.leader !== '0' && st.leader === st.header.member_id) return m;
    } catch {
      // down or not answering
    }
  }
  return undefined;
}

/**
 * Writers that start a put of a unique key every 10 ms against each given member (at most
 * 1,000 in flight each), recording what was acknowledged and when. Starting puts on a clock,
 * rather than one after another, keeps one put stuck on a dead leader from hiding that the
 * cluster serves new writes.
 */
export class WriteLoad {
  readonly acked = new Set<string>();
  /** Acknowledgement times, with the time the put started. */
  readonly acks: { startedAt: number; ackedAt: number }[] = [];
  private stopped = false;
  private readonly done: Promise<void>[];

  constructor(clients: Clients, targets: () => readonly LocalMember[], prefix: string) {
    this.done = [0, 1].map((w) => this.run(clients, targets, `${prefix}/${w}`, w));
  }

  private async run(clients: Clients, targets: () => readonly LocalMember[], tag: string, w: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; !this.stopped && i < 200_000; i++) {
      const list = targets();
      const m = list[(i + w) % list.length] as LocalMember;
      const key = `${tag}/${i}`;
      const startedAt = Date.now();
      const p: Promise<void> = clients
        .of(m)
        .put(key)
        .value(`v${i}`)
        .then(() => {
          this.acked.add(key);
          this.acks.push({ startedAt, ackedAt: Date.now() });
        })
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 1000) await Promise.race(inFlight);
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(inFlight);
  }

  /** The first acknowledgement of a put that started at or after t. */
  firstAckOfPutStartedAfter(t: number): number | undefined {
    let best: number | undefined;
    for (const a of this.acks) if (a.startedAt >= t && (best === undefined || a.ackedAt < best)) best = a.ackedAt;
    return best;
  }

  /** Acknowledged puts that started within [from, to). */
  ackedBetween(from: number, to: number): number {
    return this.acks.filter((a) => a.startedAt >= from && a.startedAt < to).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.done);
  }
}
