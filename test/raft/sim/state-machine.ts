import type { Entry, Snapshot } from '../../../src/raft/index.js';
import { assert } from '../../../src/util/assert.js';

/**
 * The identity of an entry as the checks compare it: FNV-1a over term, type and data. Two entries
 * at one index are "the same entry" when their digests match (a 2^-32 chance of missing a
 * difference per comparison is acceptable for a test).
 */
export function entryDigest(e: Entry): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (e.term >>> 0), 16777619);
  h = Math.imul(h ^ Math.floor(e.term / 4294967296), 16777619);
  h = Math.imul(h ^ e.type, 16777619);
  const d = e.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ (d[i] as number), 16777619);
  return h >>> 0;
}

/** The next link of the hash chain after applying an entry with the given digest at `index`. */
export function chainNext(chain: number, index: number, digest: number): number {
  let h = Math.imul(chain ^ digest, 0x01000193);
  h = Math.imul(h ^ index, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * The replicated state machine: a hash chain over every applied entry (no-ops and conf changes
 * included), so two members with equal (applied, chain) applied the same entries in the same
 * order. Serialized into snapshots as [applied u32][chain u32][writes u32].
 *
 * Example: restored from the bootstrap snapshot (index 1, no data) it is {applied 1, chain 0};
 * applying entry 2 makes chain = chainNext(0, 2, digest(entry 2)).
 */
export class ChainStateMachine {
  constructor(
    public applied: number,
    public chain: number,
    /** How many Write proposals were applied (shown in traces). */
    public writes: number,
  ) {}

  static restore(snap: Snapshot): ChainStateMachine {
    const index = snap.metadata.index;
    if (snap.data.byteLength === 0) {
      // The bootstrap snapshot (index 1) or a brand-new member's empty storage (index 0).
      assert(index <= 1, `snapshot at ${index} has no state machine data`);
      return new ChainStateMachine(index, 0, 0);
    }
    assert(snap.data.byteLength === 12, `bad state machine snapshot (${snap.data.byteLength} bytes)`);
    const view = new DataView(snap.data.buffer, snap.data.byteOffset, 12);
    const applied = view.getUint32(0);
    assert(applied === index, `snapshot data was taken at ${applied}, metadata says ${index}`);
    return new ChainStateMachine(applied, view.getUint32(4), view.getUint32(8));
  }

  /** Apply the entry at applied+1; returns the new chain value. */
  apply(e: Entry, digest: number, isWrite: boolean): number {
    assert(e.index === this.applied + 1, `apply ${e.index} after ${this.applied}`);
    this.applied = e.index;
    this.chain = chainNext(this.chain, e.index, digest);
    if (isWrite) this.writes++;
    return this.chain;
  }

  serialize(): Uint8Array {
    const out = new Uint8Array(12);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.applied);
    view.setUint32(4, this.chain);
    view.setUint32(8, this.writes);
    return out;
  }
}
