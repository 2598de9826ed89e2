import type { ExtraOp } from '../mvcc/index.js';
import { decodeValue, encodeValue } from './requests.js';
import type { Member } from './service.js';

/**
 * The cluster's members as this member has applied them. Changes are applied with the raft
 * entry that carries them and persisted in the same LevelDB batch as the MVCC effects and the
 * consistent index (as extra ops), so the member list and the log never disagree after a crash.
 * Removed ids are remembered: a removed member may never come back under the same id.
 */
export class Membership {
  private readonly members = new Map<bigint, Member>();
  private readonly removed = new Set<bigint>();

  static readonly PREFIX = new TextEncoder().encode('\x00members/');

  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** Set (add or replace) a member; returns the extra op that persists it. */
  set(m: Member): ExtraOp {
    this.members.set(m.id, m);
    return { type: 'put', key: memberKey(m.id), value: encodeValue({ ...m, removed: false }) };
  }

  remove(id: bigint): ExtraOp {
    const m = this.members.get(id);
    this.members.delete(id);
    this.removed.add(id);
    return { type: 'put', key: memberKey(id), value: encodeValue({ ...(m ?? { id, name: '', peerURLs: [], clientURLs: [], isLearner: false }), removed: true }) };
  }

  /** Load from the records written by set/remove. */
  load(records: Iterable<Uint8Array>): void {
    for (const value of records) {
      const rec = decodeValue<Member & { removed: boolean }>(value);
      if (rec.removed) {
        this.members.delete(rec.id);
        this.removed.add(rec.id);
      } else {
        const { removed: _removed, ...m } = rec;
        this.members.set(m.id, m);
      }
    }
  }

  /** The state for a raft snapshot. */
  dump(): { members: Member[]; removed: bigint[] } {
    return { members: this.list(), removed: [...this.removed] };
  }

  restore(d: { members: Member[]; removed: bigint[] }): void {
    this.members.clear();
    this.removed.clear();
    for (const m of d.members) this.members.set(m.id, m);
    for (const id of d.removed) this.removed.add(id);
  }
}

function memberKey(id: bigint): Uint8Array {
  const key = new Uint8Array(Membership.PREFIX.byteLength + 8);
  key.set(Membership.PREFIX, 0);
  new DataView(key.buffer).setBigUint64(Membership.PREFIX.byteLength, id);
  return key;
}
