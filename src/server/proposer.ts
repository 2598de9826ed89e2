/**
 * Proposals and their waits. A proposer registers a fresh request id, hands the entry to raft,
 * and waits until the applier settles that id with the entry's outcome (see WaitRegistry).
 * Raft refusing a proposal is a definite failure (NoLeader: it was never proposed); a timeout
 * after proposing is not (the entry may still commit), and neither is a stop (Timeout too, so
 * that Stopped keeps meaning "not proposed").
 */
import { EtcdError } from '../errors.js';
import { RaftError, type ConfChangeType, type RawNode } from '../raft/index.js';
import type { Timers } from './env.js';
import { RequestIdGenerator } from './ids.js';
import { encodeConfContext, encodeRequest, type ApplyResults, type ConfChangeResult, type RequestOf, type RequestOp } from './requests.js';
import type { Member } from './service.js';
import { WaitRegistry } from './wait.js';

/** An applied entry's outcome: its result, or the etcd error it failed with on every member. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

export interface ProposerDeps {
  readonly node: RawNode;
  readonly memberId: bigint;
  readonly timers: Timers;
  readonly nowMs: () => number;
  readonly timeoutMs: number;
  /** Throws when this member may not propose now (Stopped, NoLeader, TooManyRequests). */
  readonly checkCanPropose: () => void;
  /** Wakes the Ready loop: raft has something to hand out. */
  readonly kick: () => void;
}

export class Proposer {
  private readonly waits = new WaitRegistry<Outcome>();
  private readonly ids: RequestIdGenerator;

  constructor(private readonly deps: ProposerDeps) {
    this.ids = new RequestIdGenerator(deps.memberId, deps.nowMs());
  }

  /** A cluster-unique id (request ids, lease ids). */
  nextId(): bigint {
    return this.ids.nextId();
  }

  /** Proposes a request and resolves with its result once this member applied it. */
  async propose<Op extends RequestOp>(make: (id: bigint) => RequestOf<Op>): Promise<ApplyResults[Op]> {
    return (await this.proposeAndWait((id) => this.deps.node.propose(encodeRequest(make(id))))) as ApplyResults[Op];
  }

  async proposeConfChange(type: ConfChangeType, nodeId: bigint, member: Member): Promise<ConfChangeResult> {
    return (await this.proposeAndWait((requestId) => {
      const context = encodeConfContext({ requestId, member: { ...member, peerURLs: [...member.peerURLs], clientURLs: [...member.clientURLs] } });
      this.deps.node.proposeConfChange({ type, nodeId, context });
    })) as ConfChangeResult;
  }

  /** The applier's side: the entry proposed under `id` was applied (here) with this outcome. */
  settle(id: bigint, outcome: Outcome): void {
    this.waits.trigger(id, outcome);
  }

  /** At stop: every proposal in flight fails (with Timeout: it may still commit elsewhere). */
  failAll(err: unknown): void {
    this.waits.failAll(err);
  }

  private async proposeAndWait(doPropose: (id: bigint) => void): Promise<unknown> {
    this.deps.checkCanPropose();
    const id = this.ids.nextId();
    const done = this.waits.register(id);
    try {
      doPropose(id);
    } catch (e) {
      this.waits.fail(id, e);
      await done.catch(() => {});
      if (e instanceof RaftError && e.code === 'ProposalDropped') throw new EtcdError('NoLeader', { cause: e });
      throw e;
    }
    this.deps.kick();
    const outcome = await withTimeout(this.deps.timers, done, this.deps.timeoutMs, () => this.waits.fail(id, new EtcdError('Timeout')));
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }
}

/** `p`, with onTimeout called if it has not settled within ms. */
export function withTimeout<T>(timers: Timers, p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  const t = timers.after(ms, onTimeout);
  return p.finally(() => t.cancel());
}
