/**
 * Snapshots: the raft snapshot this member takes of its own applied state (which lets the WAL
 * release old segments), and database snapshots between members (a leader sends its whole
 * database behind a raft snapshot message; the follower stages it, then installs it when raft
 * accepts the message).
 *
 * Invariants: a raft snapshot is taken only at an index that is applied, durable in LevelDB and
 * not beyond the commit index on disk; a staged database replaces the live one only after
 * everything before it is applied.
 */
import path from 'node:path';
import { SnapshotStatus, type Message, type RawNode } from '../raft/index.js';
import { assert } from '../util/assert.js';
import type { Logger } from '../util/logger.js';
import type { AppliedIndex } from './applied.js';
import type { Applier } from './applier.js';
import type { Backend } from './backend.js';
import type { Databases, Failpoints, PeerEndpoint } from './env.js';
import { idToHex } from './ids.js';
import type { Membership } from './membership.js';
import type { DiskRaftStorage } from './raft-storage.js';
import { decodeValue, encodeValue } from './requests.js';

/** Bytes of key-value pairs per frame of a database snapshot sent to a follower. */
const DB_SNAPSHOT_CHUNK_BYTES = 1 << 20;

export interface DbSnapshotsDeps {
  readonly memberId: bigint;
  readonly memberDir: string;
  readonly node: RawNode;
  readonly storage: DiskRaftStorage;
  readonly backend: Backend;
  readonly databases: Databases;
  readonly membership: Membership;
  readonly applier: Applier;
  readonly applied: AppliedIndex;
  readonly peers: () => PeerEndpoint;
  readonly failpoints: Failpoints;
  readonly logger: Logger;
  /** --snapshot-count */
  readonly snapshotCount: number;
  readonly snapshotCatchUpEntries: number;
  readonly kick: () => void;
  /** The database was replaced (at this revision): watchers must catch up from it. */
  readonly onInstalled: (revision: number) => void;
}

export class DbSnapshots {
  private snapshotIndex: number;

  constructor(private readonly deps: DbSnapshotsDeps) {
    this.snapshotIndex = deps.storage.firstIndex() - 1;
  }

  /** The live database's path; staged ones sit beside it. */
  static livePath(memberDir: string): string {
    return path.join(memberDir, 'db');
  }

  /** Removes databases a crash left staged (the leader sends them again). */
  static async removeStale(databases: Databases, memberDir: string): Promise<void> {
    for (const p of await databases.list(memberDir)) {
      const name = path.basename(p);
      if (name.startsWith('db.incoming-') || name === 'db.old') await databases.remove(p);
    }
  }

  /** After a Ready: a raft snapshot once --snapshot-count entries were applied since the last. */
  async maybeSnapshot(): Promise<void> {
    const d = this.deps;
    const applied = d.applied.index;
    if (applied - this.snapshotIndex < d.snapshotCount) return;
    if (applied > d.storage.lastIndex()) return;
    const data = encodeValue(d.membership.dump());
    if (d.failpoints.armed) await d.failpoints.hit('beforeSnapshotSave');
    // The WAL behind the snapshot is about to be released: what it applied must be durable first.
    await d.backend.sync(applied);
    // The hard state on disk may lag the commit index (it is written without a sync of its
    // own): a restart must not find a snapshot beyond it.
    await d.storage.save({ hardState: d.node.hardState(), entries: [] });
    await d.storage.createSnapshot(applied, d.applier.confState, data, d.snapshotCatchUpEntries);
    if (d.failpoints.armed) await d.failpoints.hit('afterSnapshotSave');
    this.snapshotIndex = applied;
    d.logger.info('saved snapshot', { index: applied, firstIndex: d.storage.firstIndex() });
  }

  /**
   * Sends a raft snapshot with the whole database behind it. The database is read through one
   * iterator (a consistent view), so it is at least as new as the raft snapshot; the follower
   * skips re-applying what it already holds by the consistent index inside it.
   */
  send(m: Message): void {
    const d = this.deps;
    const db = d.backend.db;
    async function* body(): AsyncGenerator<Uint8Array> {
      let pairs: Uint8Array[] = [];
      let bytes = 0;
      for await (const [k, v] of db.iterator()) {
        pairs.push(k as Uint8Array, v as Uint8Array);
        bytes += (k as Uint8Array).byteLength + (v as Uint8Array).byteLength;
        if (bytes >= DB_SNAPSHOT_CHUNK_BYTES) {
          yield encodeValue(pairs);
          pairs = [];
          bytes = 0;
        }
      }
      if (pairs.length > 0) yield encodeValue(pairs);
    }
    d.logger.info('sending database snapshot', { to: idToHex(m.to), index: m.snapshot?.metadata.index });
    d.peers()
      .sendSnapshot(m.to, m, body())
      .then(() => d.node.reportSnapshot(m.to, SnapshotStatus.Finish))
      .catch((e: unknown) => {
        d.logger.warn('sending snapshot failed', { to: idToHex(m.to), error: String(e) });
        d.node.reportSnapshot(m.to, SnapshotStatus.Failure);
      })
      .finally(() => d.kick());
  }

  /** A leader's snapshot arrives: stage its database, then hand the message to raft. */
  async receive(header: Message, body: AsyncIterable<Uint8Array>): Promise<void> {
    const d = this.deps;
    const index = header.snapshot?.metadata.index ?? 0;
    assert(index > 0, 'snapshot message without a snapshot');
    const staged = this.stagedPath(index);
    await d.databases.remove(staged);
    const db = await d.databases.open(staged);
    try {
      for await (const chunk of body) {
        const pairs = decodeValue<Uint8Array[]>(chunk);
        const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
        for (let i = 0; i + 1 < pairs.length; i += 2) ops.push({ type: 'put', key: Buffer.from(pairs[i] as Uint8Array), value: Buffer.from(pairs[i + 1] as Uint8Array) });
        await db.batch(ops);
      }
    } finally {
      await db.close();
    }
    d.node.step(header);
    d.kick();
  }

  /** Raft accepted a snapshot: everything before it is applied; replace the database and reload. */
  async install(index: number): Promise<void> {
    const d = this.deps;
    await d.applier.idle();
    if (d.failpoints.armed) await d.failpoints.hit('beforeSnapshotInstall');
    const staged = this.stagedPath(index);
    if (!(await d.databases.exists(staged))) throw new Error(`snapshot ${index}: no staged database at ${staged}`);
    await d.backend.close();
    await d.databases.replace(staged, DbSnapshots.livePath(d.memberDir));
    await d.backend.open();
    d.applier.restoredTo(index, d.node.confState());
    d.applied.advanceTo(index);
    this.snapshotIndex = index;
    for (const m of d.membership.list()) if (m.id !== d.memberId) d.peers().addPeer(m.id, [...m.peerURLs]);
    d.onInstalled(d.backend.store.currentRev);
    d.logger.info('installed database snapshot', { index, consistentIndex: d.backend.store.consistentIndex(), revision: d.backend.store.currentRev });
    if (d.failpoints.armed) await d.failpoints.hit('afterSnapshotInstall');
  }

  private stagedPath(index: number): string {
    return path.join(this.deps.memberDir, `db.incoming-${index}`);
  }
}
