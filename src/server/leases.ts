/**
 * The member's leases: the Lessor (src/lease) plus what makes it durable. Lease records live in
 * the member's LevelDB under `\x00leases/` and are written as extra ops in the same batch as the
 * entry that changed them (with the consistent index), like membership records. Which keys are
 * attached to which lease is not stored apart: every key-value carries its lease, so attachments
 * follow from the applied events, and a restart rebuilds them from the current keys.
 *
 * Record: `\x00leases/` + id (8 bytes, big-endian two's complement) -> msgpack {ttl, remainingMs},
 * where remainingMs is what was left when the record was written (grant or checkpoint).
 */
import { EventType, type Event, type ExtraOp, type KeyValue } from '../mvcc/index.js';
import { Lessor, type Checkpoint, type Clock } from '../lease/index.js';
import { decodeValue, encodeValue } from './requests.js';

const PREFIX = new TextEncoder().encode('\x00leases/');

interface LeaseRecord {
  readonly id: bigint;
  readonly ttl: number;
  readonly remainingMs: number;
}

export class LeaseTable {
  static readonly PREFIX = PREFIX;
  readonly lessor: Lessor;

  constructor(clock: Clock, minTtlSeconds: number) {
    this.lessor = new Lessor({ clock, minTtlSeconds });
  }

  /** Restores the leases from their records, then attaches the current keys that name one. */
  load(records: Iterable<Uint8Array>, leasedKvs: Iterable<KeyValue>): void {
    for (const value of records) {
      const r = decodeValue<LeaseRecord>(value);
      this.lessor.grant(r.id, r.ttl, r.remainingMs);
    }
    for (const kv of leasedKvs) {
      // A key can only name a lease that existed when it was written, and a revoke deletes the
      // lease's keys in the same batch as its record.
      if (kv.lease !== 0n) this.lessor.attach(kv.lease, kv.key);
    }
  }

  /** Applies a grant; returns the record to persist with it. Throws LeaseExist, ... */
  grant(id: bigint, ttlSeconds: number): { ttl: number; op: ExtraOp } {
    const info = this.lessor.grant(id, ttlSeconds);
    return { ttl: info.ttlSeconds, op: put({ id, ttl: info.ttlSeconds, remainingMs: info.ttlSeconds * 1000 }) };
  }

  /** The op that deletes a revoked lease's record (revoke the lessor after the batch is in). */
  revokeOp(id: bigint): ExtraOp {
    return { type: 'del', key: leaseKey(id) };
  }

  /** Applies checkpoints; returns the records to persist (none for leases that are gone). */
  checkpoint(cps: readonly Checkpoint[]): ExtraOp[] {
    const ops: ExtraOp[] = [];
    for (const cp of cps) {
      const info = this.lessor.lookup(cp.id);
      if (info === undefined) continue;
      this.lessor.checkpoint(cp.id, cp.remainingMs);
      ops.push(put({ id: cp.id, ttl: info.ttlSeconds, remainingMs: cp.remainingMs }));
    }
    return ops;
  }

  /** Follows applied events: a put attaches its key to the lease it names (or detaches it), a delete detaches. */
  applyEvents(events: readonly Event[]): void {
    const lessor = this.lessor;
    for (const ev of events) {
      const current = lessor.leaseOf(ev.kv.key);
      if (ev.type === EventType.PUT && ev.kv.lease !== 0n) {
        if (current !== ev.kv.lease) lessor.attach(ev.kv.lease, ev.kv.key);
      } else if (current !== 0n) {
        lessor.detach(current, ev.kv.key);
      }
    }
  }
}

function put(r: LeaseRecord): ExtraOp {
  return { type: 'put', key: leaseKey(r.id), value: encodeValue(r) };
}

function leaseKey(id: bigint): Uint8Array {
  const key = new Uint8Array(PREFIX.byteLength + 8);
  key.set(PREFIX, 0);
  new DataView(key.buffer).setBigInt64(PREFIX.byteLength, id);
  return key;
}
