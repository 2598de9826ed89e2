/**
 * Requests between members besides raft's messages (env.ts PeerRequest), both ways, with one
 * error mapping: the serving member fails a request with an etcd error, which travels as its
 * catalog code and is thrown again, unchanged, on the asking member. Anything that is not an
 * answer (the peer unreachable, no answer in time, an unknown failure) is a Timeout there: the
 * request may or may not have happened.
 */
import { EtcdError, isEtcdError } from '../errors.js';
import { NONE, type NodeId } from '../raft/index.js';
import type { Logger } from '../util/logger.js';
import type { PeerAnswer, PeerNetwork, PeerReply, PeerRequest } from './env.js';
import type { Membership } from './membership.js';

/** What this member answers, per request kind. */
export type PeerServices = { readonly [K in PeerRequest['kind']]: (req: Extract<PeerRequest, { kind: K }>) => Promise<PeerAnswer<K>> };

export interface PeerRoutesDeps {
  readonly network: PeerNetwork;
  readonly membership: Membership;
  readonly lead: () => NodeId;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export class PeerRoutes {
  private services: PeerServices | undefined;

  constructor(private readonly deps: PeerRoutesDeps) {}

  /** Installs what this member answers (once its parts exist). */
  mount(services: PeerServices): void {
    this.services = services;
  }

  /** Serves a request from another member. */
  async serve<R extends PeerRequest>(req: R): Promise<PeerReply<R['kind']>> {
    try {
      if (this.services === undefined) throw new EtcdError('Stopped');
      const serve = this.services[req.kind] as unknown as (r: R) => Promise<PeerAnswer<R['kind']>>;
      return { ok: true, answer: await serve(req) };
    } catch (e) {
      if (!isEtcdError(e)) this.deps.logger.warn('peer request failed', { kind: req.kind, error: String(e) });
      return { ok: false, code: isEtcdError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Asks the leader (NoLeader when there is none); its etcd error is thrown here. */
  async toLeader<R extends PeerRequest>(req: R): Promise<PeerAnswer<R['kind']>> {
    const lead = this.deps.lead();
    const url = this.deps.membership.get(lead)?.peerURLs[0];
    if (lead === NONE || url === undefined) throw new EtcdError('NoLeader');
    return this.ask(url, req);
  }

  /** Asks the member at a peer URL. */
  async ask<R extends PeerRequest>(url: string, req: R): Promise<PeerAnswer<R['kind']>> {
    let reply: PeerReply<R['kind']>;
    try {
      reply = await this.deps.network.request(url, req, this.deps.timeoutMs);
    } catch (e) {
      throw new EtcdError('Timeout', { cause: e });
    }
    if (reply.ok) return reply.answer;
    throw reply.code !== undefined ? new EtcdError(reply.code) : new EtcdError('Timeout', { cause: new Error(reply.message) });
  }
}
