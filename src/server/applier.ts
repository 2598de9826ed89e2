/**
 * The applier: committed entries, in order, into the MVCC store, the lessor and the member list.
 *
 * A run of client requests is applied as one MVCC apply group (one LevelDB batch for all of
 * them, carrying the consistent index); their results go to the waiting proposers and their
 * events to watchers as soon as the group is committed (readable from memory while its batch is
 * written, see mvcc/apply-group.ts). Configuration changes and compactions are applied alone.
 * Applying runs beside the Ready loop's next fsync, as etcd's apply goroutine does; a failure
 * here is fatal to the member.
 *
 * Invariants: entries are applied in index order, each once (an entry at or below the store's
 * consistent index was applied before a restart, and only configuration changes reach raft
 * again); the applied index moves only once an entry's batch is written.
 */
import { isEtcdError } from '../errors.js';
import type { Event } from '../mvcc/index.js';
import { ConfChangeType, EntryType, decodeConfChange, type ConfState, type Entry, type RawNode } from '../raft/index.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import type { WatchHub } from '../watch/index.js';
import type { AppliedIndex } from './applied.js';
import type { Backend } from './backend.js';
import type { Failpoints, PeerEndpoint } from './env.js';
import { idToHex } from './ids.js';
import type { Membership } from './membership.js';
import type { Outcome, Proposer } from './proposer.js';
import { decodeConfContext, decodeRequest, type ApplyResults, type InternalRequest, type RequestOf } from './requests.js';

/** Entries applied in one MVCC apply group (one LevelDB batch) at most. */
const MAX_APPLY_GROUP = 1000;

export interface ApplierDeps {
  readonly memberId: bigint;
  readonly node: RawNode;
  readonly backend: Backend;
  readonly hub: WatchHub;
  readonly membership: Membership;
  readonly proposer: Proposer;
  readonly applied: AppliedIndex;
  readonly failpoints: Failpoints;
  readonly logger: Logger;
  readonly peers: () => PeerEndpoint;
  readonly isRunning: () => boolean;
  /** After each applied run (lease promotion waits for the leader's first entry of its term). */
  readonly onApplied: (index: number) => void;
  /** A committed configuration change removed this member. */
  readonly onRemoved: () => void;
  /** Applying failed: the member must stop. */
  readonly onFatal: (e: unknown) => void;
}

export class Applier {
  private readonly queue: Entry[] = [];
  private running: Promise<void> | undefined;
  private failure: unknown;
  /** The configuration raft has applied, for snapshots. */
  confState: ConfState;
  /**
   * The log index the configuration in force dates from: the last configuration change applied,
   * or the snapshot the member started from or installed (which holds every change before it).
   */
  configIndex: number;
  /** The index of the last entry handed over. */
  private lastEnqueued: number;

  constructor(
    private readonly deps: ApplierDeps,
    confState: ConfState,
  ) {
    this.confState = confState;
    this.configIndex = deps.applied.index;
    this.lastEnqueued = deps.applied.index;
  }

  /** Hands over committed entries: they continue those handed before (or the snapshot restored). */
  enqueue(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index === this.lastEnqueued + 1, `applier: entries from ${first.index} after ${this.lastEnqueued}`);
    this.lastEnqueued = (entries[entries.length - 1] as Entry).index;
    this.queue.push(...entries);
    this.start();
  }

  /** A snapshot replaced the state at `index`: entries continue from there. The applier is idle. */
  restoredTo(index: number, confState: ConfState): void {
    assert(this.running === undefined && this.queue.length === 0, 'applier: snapshot installed while applying');
    this.lastEnqueued = index;
    this.confState = confState;
    this.configIndex = index;
  }

  /** Resolves once every entry handed over so far is applied (rejects if applying failed). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Starts the loop unless it runs. Entries queued while a finishing loop is on its way out
   * (after its last look at the queue, before `running` is cleared) start a new one, so none is
   * left waiting for the next Ready.
   */
  private start(): void {
    if (this.running !== undefined) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.deps.isRunning() && this.failure === undefined && this.queue.length > 0) this.start();
    });
  }

  private async loop(): Promise<void> {
    const fp = this.deps.failpoints;
    try {
      while (this.deps.isRunning() && this.queue.length > 0) {
        const run = this.takeRun();
        if (fp.armed) await fp.hit('beforeApply');
        if (run.length === 1 && !isGroupable(run[0] as Entry)) await this.applyAlone(run[0] as Entry);
        else await this.applyGroup(run);
        if (fp.armed) await fp.hit('afterApply');
      }
    } catch (e) {
      // Nobody awaits this loop but idle(): keep the failure for it, and stop.
      this.failure = e;
      this.deps.logger.error('apply failed; stopping the member', { error: String(e instanceof Error ? (e.stack ?? e.message) : e) });
      this.deps.onFatal(e);
    }
  }

  /** The next run to apply: one entry that must go alone, or up to MAX_APPLY_GROUP groupable ones. */
  private takeRun(): Entry[] {
    const first = this.queue[0] as Entry;
    if (!isGroupable(first)) return this.queue.splice(0, 1);
    let n = 1;
    while (n < this.queue.length && n < MAX_APPLY_GROUP && isGroupable(this.queue[n] as Entry)) n++;
    return this.queue.splice(0, n);
  }

  private async applyAlone(e: Entry): Promise<void> {
    const store = this.deps.backend.store;
    if (e.type === EntryType.ConfChange) {
      await this.applyConfChange(e);
    } else if (e.data.byteLength > 0 && !store.isApplied(e.index)) {
      const req = requestOf(e);
      const { outcome } = await this.applyOne(req, e.index);
      this.deps.proposer.settle(req.id, outcome);
    }
    this.markApplied(e.index);
  }

  private async applyGroup(entries: readonly Entry[]): Promise<void> {
    const store = this.deps.backend.store;
    const group = store.beginGroup();
    const results: { id: bigint; outcome: Outcome; events: readonly Event[] }[] = [];
    for (const e of entries) {
      if (e.data.byteLength === 0 || store.isApplied(e.index)) continue; // empty, or applied before a restart
      const req = requestOf(e);
      const r = await this.applyOne(req, e.index);
      results.push({ id: req.id, ...r });
    }
    // Readable from here on, while the batch is written (apply-group.ts). The group's events go
    // to the watchers in one notify, so a watcher gets one response for the group, not one per
    // entry (a burst per entry would overflow its stream's buffer). Marked applied only once
    // written: a snapshot taken at the applied index must find it on disk.
    const written = group.commit();
    const events = results.flatMap((r) => r.events);
    if (events.length > 0) this.deps.hub.notify(events, (events[events.length - 1] as Event).kv.modRevision);
    for (const r of results) this.deps.proposer.settle(r.id, r.outcome);
    await written;
    this.markApplied((entries[entries.length - 1] as Entry).index);
  }

  /** Applies one request; an etcd error is its (failed) outcome, anything else is fatal. */
  private async applyOne(req: InternalRequest, index: number): Promise<{ outcome: Outcome; events: readonly Event[] }> {
    try {
      const { result, events } = await this.applyRequest(req, index);
      // Leases follow the keys' lease fields at once (a later entry of the same group may revoke
      // the lease); watchers get the events with the group.
      if (events.length > 0) {
        this.deps.backend.leases.applyEvents(events);
        if (!this.deps.backend.store.inGroup) this.deps.hub.notify(events, this.deps.backend.store.currentRev);
      }
      return { outcome: { ok: true, value: result }, events: this.deps.backend.store.inGroup ? events : [] };
    } catch (error) {
      if (!isEtcdError(error)) throw error;
      return { outcome: { ok: false, error }, events: [] };
    }
  }

  private async applyRequest(req: InternalRequest, index: number): Promise<{ result: ApplyResults[InternalRequest['op']]; events: readonly Event[] }> {
    const { store, leases } = this.deps.backend;
    switch (req.op) {
      case 'put': {
        const { events, ...result } = await store.put(req.put, index);
        return { result, events };
      }
      case 'deleteRange': {
        const { events, ...result } = await store.deleteRange(req.deleteRange, index);
        return { result, events };
      }
      case 'txn': {
        const { events, ...result } = await store.txn(req.txn, index);
        return { result, events };
      }
      case 'leaseGrant': {
        const granted = await this.failingWith(index, () => leases.grant(req.leaseId, req.ttl));
        await store.write().end(index, [granted.op]);
        return { result: { ttl: granted.ttl }, events: [] };
      }
      case 'leaseRevoke':
        return { result: {}, events: await this.revoke(req, index) };
      case 'leaseCheckpoint':
        await store.write().end(index, leases.checkpoint(req.checkpoints));
        return { result: {}, events: [] };
      case 'compaction': {
        const fp = this.deps.failpoints;
        if (fp.armed) await fp.hit('beforeCompaction');
        const handle = await store.compact(req.revision, index);
        if (req.physical) await handle.done;
        return { result: { rev: store.currentRev }, events: [] };
      }
      case 'attributes': {
        const m = this.deps.membership.get(req.memberId);
        const ops = m ? [this.deps.membership.set({ ...m, name: req.name, clientURLs: req.clientURLs })] : [];
        await store.write().end(index, ops);
        return { result: {}, events: [] };
      }
    }
  }

  /** A lease's keys go in one revision, with the lease's record, as etcd's revoke. */
  private async revoke(req: RequestOf<'leaseRevoke'>, index: number): Promise<readonly Event[]> {
    const { store, leases } = this.deps.backend;
    const keys = await this.failingWith(index, () => leases.lessor.keys(req.leaseId));
    const w = store.write();
    for (const k of keys) await w.deleteRange(k);
    const events = await w.end(index, [leases.revokeOp(req.leaseId)]);
    leases.lessor.revoke(req.leaseId);
    return events;
  }

  /**
   * Runs a check of an entry that may fail with an etcd error: then the entry still counts as
   * applied (it fails the same way on every member), so its consistent index is committed first.
   */
  private async failingWith<T>(index: number, fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (e) {
      if (isEtcdError(e)) await this.deps.backend.store.write().end(index);
      throw e;
    }
  }

  private async applyConfChange(e: Entry): Promise<void> {
    const { membership, backend, memberId } = this.deps;
    const cc = decodeConfChange(e.data);
    const ctx = cc.context && cc.context.byteLength > 0 ? decodeConfContext(cc.context) : undefined;
    this.confState = this.deps.node.applyConfChange(cc);
    this.configIndex = e.index;
    if (!backend.store.isApplied(e.index)) {
      const ops = [];
      if (cc.type === ConfChangeType.RemoveNode) {
        ops.push(membership.remove(cc.nodeId));
      } else if (ctx) {
        const existing = membership.get(cc.nodeId);
        const isLearner = cc.type === ConfChangeType.AddLearnerNode;
        ops.push(membership.set(existing ? { ...existing, isLearner } : { ...ctx.member, id: cc.nodeId, isLearner }));
      }
      await backend.store.write().end(e.index, ops);
    }
    const m = membership.get(cc.nodeId);
    if (cc.nodeId !== memberId) {
      if (cc.type === ConfChangeType.RemoveNode) this.deps.peers().removePeer(cc.nodeId);
      else if (m) this.deps.peers().addPeer(cc.nodeId, [...m.peerURLs]);
    }
    if (ctx) this.deps.proposer.settle(ctx.requestId, { ok: true, value: { member: m ?? ctx.member } });
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === memberId) {
      this.deps.logger.warn('the member has been permanently removed from the cluster', { memberId: idToHex(memberId) });
      this.deps.onRemoved();
    }
  }

  private markApplied(index: number): void {
    assert(index <= this.deps.node.committed(), `applied ${index} beyond the commit index ${this.deps.node.committed()}`);
    this.deps.applied.advanceTo(index);
    this.deps.onApplied(index);
  }
}

/** Each entry's request, decoded once (the apply loop looks at it twice). */
const decoded = new WeakMap<Entry, InternalRequest>();

function requestOf(e: Entry): InternalRequest {
  let r = decoded.get(e);
  if (r === undefined) {
    r = decodeRequest(e.data);
    decoded.set(e, r);
  }
  return r;
}

/** Client requests and lease records share an apply group; compactions and conf changes go alone. */
export function isGroupable(e: Entry): boolean {
  if (e.type !== EntryType.Normal) return false;
  if (e.data.byteLength === 0) return true;
  return requestOf(e).op !== 'compaction';
}
