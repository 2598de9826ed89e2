/**
 * Lease timing, which only the leader decides (etcd's primary lessor): renewals live in its
 * memory, expiries go through raft as revokes, and followers forward keep-alives and TTL
 * questions to it.
 *
 * A new leader takes over expiry once it has applied its own first entry of the term, so it
 * knows every lease and checkpoint its predecessors committed; it then gives every lease an
 * election timeout more (etcd's Promote), for clients that could not renew meanwhile. A renewal
 * is made only once a ReadIndex round confirmed this member still leads (etcd 3.5's
 * ensureLeadership), so a deposed leader cannot renew.
 */
import { EtcdError, isEtcdError } from '../errors.js';
import { NONE, type NodeId, type RawNode } from '../raft/index.js';
import type { Logger } from '../util/logger.js';
import type { AppliedIndex } from './applied.js';
import type { Backend } from './backend.js';
import type { Timers } from './env.js';
import { idToHex } from './ids.js';
import { MAX_FORWARDED_KEEPALIVES } from './peer-http.js';
import type { PeerRoutes } from './peer-routes.js';
import { withTimeout, type Proposer } from './proposer.js';
import type { ReadIndex } from './read-index.js';

/** Expired leases revoked per lease tick (etcd's leaseRevokeRate is 1,000/s at 500 ms ticks). */
const LEASE_REVOKES_PER_TICK = 500;

export interface LeaseLeaderDeps {
  readonly memberId: bigint;
  readonly node: RawNode;
  readonly backend: Backend;
  readonly applied: AppliedIndex;
  readonly reads: ReadIndex;
  readonly proposer: Proposer;
  readonly peers: PeerRoutes;
  readonly timers: Timers;
  readonly lead: () => NodeId;
  readonly electionMs: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export class LeaseLeader {
  /** Set when this member became leader: leases are promoted once it applied up to here. */
  private promoteAtIndex: number | undefined;
  private readonly promoteWaiters: (() => void)[] = [];
  /** Keep-alives a follower forwards to the leader in one request (see forwardKeepAlive). */
  private batch: { readonly ids: bigint[]; readonly ttls: Promise<readonly number[]> } | undefined;

  constructor(private readonly deps: LeaseLeaderDeps) {}

  private get lessor(): Backend['leases']['lessor'] {
    return this.deps.backend.leases.lessor;
  }

  /** The leader changed (from the Ready loop's soft state). */
  onLeaderChange(lead: NodeId, previous: NodeId): void {
    if (lead === this.deps.memberId) {
      this.promoteAtIndex = this.deps.node.lastIndex();
    } else if (previous === this.deps.memberId) {
      this.promoteAtIndex = undefined;
      this.lessor.demote();
    }
  }

  /** After each applied run: a new leader takes over once it has applied its first entry. */
  onApplied(index: number): void {
    if (this.promoteAtIndex === undefined || index < this.promoteAtIndex) return;
    this.promoteAtIndex = undefined;
    this.lessor.promote(this.deps.electionMs);
    for (const w of this.promoteWaiters.splice(0)) w();
    this.deps.logger.info('took over lease expiry', { leases: this.lessor.size });
  }

  /** One keep-alive: renewed here when leading, else forwarded to the leader. */
  async keepAlive(id: bigint): Promise<number> {
    return (await this.leading('confirmed')) ? this.renew(id) : this.forwardKeepAlive(id);
  }

  async timeToLive(id: bigint, keys: boolean): Promise<{ ttl: number; grantedTtl: number; keys: readonly Uint8Array[] }> {
    if (await this.leading('applied')) return this.localTimeToLive(id, keys);
    return this.deps.peers.toLeader({ kind: 'ttl', id, keys });
  }

  /** A follower's forwarded keep-alives; NotLeader when this member no longer leads (it retries). */
  async serveKeepAlive(ids: readonly bigint[]): Promise<{ ttls: number[] }> {
    if (!(await this.leading('confirmed'))) throw new EtcdError('NotLeader');
    return { ttls: ids.map((id) => this.renew(id)) };
  }

  async serveTimeToLive(id: bigint, keys: boolean): Promise<{ ttl: number; grantedTtl: number; keys: readonly Uint8Array[] }> {
    if (!(await this.leading('applied'))) throw new EtcdError('NotLeader');
    return this.localTimeToLive(id, keys);
  }

  /** The leader's lease timing, every lease tick: revoke what expired, through raft. */
  tick(): void {
    if (!this.lessor.isPrimary || this.deps.lead() !== this.deps.memberId) return;
    for (const l of this.lessor.expired(LEASE_REVOKES_PER_TICK)) {
      this.deps.proposer.propose((rid) => ({ id: rid, op: 'leaseRevoke', leaseId: l.id })).catch((e: unknown) => {
        // Reported again after the retry interval if it is still there.
        this.deps.logger.debug('revoking an expired lease failed', { lease: idToHex(l.id), error: String(e) });
      });
    }
  }

  /** Renews on the leader; etcd answers a keep-alive of an unknown lease with TTL 0. */
  private renew(id: bigint): number {
    try {
      return this.lessor.renew(id);
    } catch (e) {
      if (!(isEtcdError(e) && e.code === 'LeaseNotFound')) throw e;
      return 0;
    }
  }

  private localTimeToLive(id: bigint, withKeys: boolean): { ttl: number; grantedTtl: number; keys: Uint8Array[] } {
    // etcd answers an unknown lease with TTL -1.
    if (this.lessor.lookup(id) === undefined) return { ttl: -1, grantedTtl: 0, keys: [] };
    const t = this.lessor.timeToLive(id, withKeys);
    return { ttl: t.ttlSeconds, grantedTtl: t.grantedTtlSeconds, keys: t.keys };
  }

  /**
   * A follower's keep-alive goes to the leader over the peer port. Those arriving in the same
   * turn of the event loop share one request (up to MAX_FORWARDED_KEEPALIVES), answered with a
   * TTL per lease after one leadership check.
   */
  private forwardKeepAlive(id: bigint): Promise<number> {
    let batch = this.batch;
    if (batch === undefined || batch.ids.length >= MAX_FORWARDED_KEEPALIVES) {
      const ids: bigint[] = [];
      const ttls = this.deps.timers.yield().then(async () => {
        if (this.batch?.ids === ids) this.batch = undefined;
        const r = await this.deps.peers.toLeader({ kind: 'keepalive', ids });
        if (r.ttls.length !== ids.length) throw new EtcdError('Timeout', { cause: new Error(`leader answered ${ids.length} keep-alives with ${r.ttls.length} TTLs`) });
        return r.ttls;
      });
      batch = { ids, ttls };
      this.batch = batch;
    }
    const i = batch.ids.push(id) - 1;
    return batch.ttls.then((ttls) => ttls[i] as number);
  }

  /**
   * Whether this member answers lease timing itself: it is the leader and has taken over
   * expiry (waiting for that, briefly, right after an election). False on followers.
   * Everything committed when the request came (a grant a follower already answered, say) is
   * applied here first, as etcd's waitAppliedIndex: applying runs behind committing. 'confirmed'
   * also has a ReadIndex round confirm that this member still leads (etcd's ensureLeadership).
   */
  private async leading(check: 'applied' | 'confirmed'): Promise<boolean> {
    const d = this.deps;
    if (d.lead() === NONE) throw new EtcdError('NoLeader');
    if (d.lead() !== d.memberId) return false;
    if (check === 'confirmed') await d.reads.linearizableRead();
    else await d.applied.wait(d.node.committed());
    if (this.lessor.isPrimary) return true;
    await withTimeout(
      d.timers,
      new Promise<void>((r) => this.promoteWaiters.push(r)),
      d.timeoutMs,
      () => {
        for (const w of this.promoteWaiters.splice(0)) w();
      },
    );
    if (!this.lessor.isPrimary) throw new EtcdError(d.lead() === d.memberId ? 'Timeout' : 'LeaderChanged');
    return true;
  }
}
