/**
 * The Ready loop (etcd's raftNode): raft driven by ticks, peer messages and proposals; each
 * Ready handled in raft's order, one at a time:
 *   1. leader messages go out at once (in parallel with the leader's own fsync);
 *   2. the hard state and entries are made durable (one WAL fsync for the whole Ready);
 *   3. a snapshot from the leader is installed (after everything before it is applied);
 *   4. the other messages go out (a follower answers only what is durable);
 *   5. committed entries go to the applier, which runs beside the next Ready's fsync, except
 *      after a configuration change, which raft must see applied before its next Ready;
 *   6. advance(); then maybe a raft snapshot of the applied state.
 */
import { EntryType, MessageType, NONE, type Message, type NodeId, type RawNode, type Ready, type StateType } from '../raft/index.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import type { Applier } from './applier.js';
import type { DbSnapshots } from './db-snapshots.js';
import type { Failpoints, PeerEndpoint, TimerHandle, Timers } from './env.js';
import { idToHex } from './ids.js';
import type { Membership } from './membership.js';
import type { DiskRaftStorage } from './raft-storage.js';
import type { ReadIndex } from './read-index.js';

export interface ReadyLoopDeps {
  readonly memberId: bigint;
  readonly node: RawNode;
  readonly storage: DiskRaftStorage;
  readonly snapshots: DbSnapshots;
  readonly applier: Applier;
  readonly reads: ReadIndex;
  readonly membership: Membership;
  readonly peers: () => PeerEndpoint;
  readonly timers: Timers;
  readonly tickMs: number;
  readonly failpoints: Failpoints;
  readonly logger: Logger;
  /** The leader changed (NONE: no leader known). */
  readonly onLeaderChange: (lead: NodeId, previous: NodeId) => void;
}

export class ReadyLoop {
  private lead: NodeId = NONE;
  /** The leader seen in the newest term a leader was seen in: one leader per term, ever. */
  private seen: { term: number; lead: NodeId } = { term: 0, lead: NONE };
  private running = false;
  private wake: (() => void) | undefined;
  private ticker: TimerHandle | undefined;
  private done: Promise<void> | undefined;
  private readonly leaderWaiters: (() => void)[] = [];

  constructor(private readonly deps: ReadyLoopDeps) {}

  /** The leader as this member last learned it. */
  get leader(): NodeId {
    return this.lead;
  }

  /** Starts ticking and handling Readies; resolves when the loop ends (rejects if it failed). */
  start(): Promise<void> {
    this.running = true;
    this.ticker = this.deps.timers.every(this.deps.tickMs, () => {
      this.deps.node.tick();
      this.kick();
    });
    this.done = this.loop();
    return this.done;
  }

  /** Stops ticking; resolves once the Ready being handled is done. */
  async stop(): Promise<void> {
    this.running = false;
    this.ticker?.cancel();
    this.kick();
    await this.done?.catch(() => {});
    for (const w of this.leaderWaiters.splice(0)) w();
  }

  /** Wakes the loop: raft may have something to hand out. */
  kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when a leader is next known (at once if one is), or at stop. */
  leaderKnown(): Promise<void> {
    if (this.lead !== NONE || !this.running) return Promise.resolve();
    return new Promise((r) => this.leaderWaiters.push(r));
  }

  /** Resolves at the next change of leader to a known one, or at stop. */
  nextLeader(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.leaderWaiters.push(r));
  }

  onPeerMessages(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.to !== this.deps.memberId) continue;
      if (this.deps.membership.isRemoved(m.from)) continue;
      this.deps.node.step(m);
    }
    this.kick();
  }

  private async loop(): Promise<void> {
    const node = this.deps.node;
    while (this.running) {
      if (!node.hasReady()) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      await this.handle(node.ready());
      node.advance();
      await this.deps.snapshots.maybeSnapshot();
    }
  }

  private async handle(rd: Ready): Promise<void> {
    const d = this.deps;
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.state);
    this.send(rd.leaderMessages);
    for (const rs of rd.readStates) d.reads.onReadState(rs.index, rs.requestCtx);
    if (d.failpoints.armed) await d.failpoints.hit('beforeWalSave');
    if (rd.mustSync) await d.storage.save(rd);
    // Only the commit index moved (no entries, term or vote): like etcd, no fsync for that; the
    // WAL writes it with the next record, and at a clean stop.
    else d.storage.noteHardState(rd.hardState);
    if (d.failpoints.armed) await d.failpoints.hit('afterWalSave');
    if (rd.snapshot) await d.snapshots.install(rd.snapshot.metadata.index);
    this.send(rd.messages);
    if (rd.committedEntries.length > 0) {
      d.applier.enqueue(rd.committedEntries);
      if (rd.committedEntries.some((e) => e.type === EntryType.ConfChange)) await d.applier.idle();
    }
  }

  /** Snapshots travel on their own stream with the database behind them; the rest in batches. */
  private send(msgs: readonly Message[]): void {
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.deps.snapshots.send(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.deps.peers().send(plain);
  }

  private onSoftState(lead: NodeId, state: StateType): void {
    if (lead === this.lead) return;
    const previous = this.lead;
    const term = this.deps.node.term();
    if (lead !== NONE) {
      assert(term >= this.seen.term && (term > this.seen.term || lead === this.seen.lead), `two leaders in term ${term}: ${idToHex(this.seen.lead)} and ${idToHex(lead)}`);
      this.seen = { term, lead };
    }
    this.deps.logger.info('leader changed', { from: idToHex(previous), to: idToHex(lead), state, term });
    this.lead = lead;
    this.deps.onLeaderChange(lead, previous);
    if (lead !== NONE) for (const w of this.leaderWaiters.splice(0)) w();
  }
}
