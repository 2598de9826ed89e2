import { describe, expect, it } from 'vitest';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { checkLease, type LeaseOptions } from '../../../jepsen-lite/checkers/lease.js';
import type { WatchEventRecord } from '../../../jepsen-lite/history.js';
import { HistoryBuilder, collectorRecord, del, put, resp, watchRecord } from './builder.js';

const MS = 1e6;
const S = 1e9;

/**
 * Lease 100 (TTL 2 s): attached to lk1, kept alive once, revoked at 1.5 s. Lease 200 (TTL 2 s):
 * attached to lk3, never kept alive, expires; a watcher sees the delete at `expirySeenNs`.
 */
function scenario(o: { readAfterRevoke?: string; putAfterRevoke?: boolean; expirySeenNs?: number; lateRead?: string } = {}) {
  const b = new HistoryBuilder()
    .op(1, 'lease-grant', [0, 1 * MS], { ttl: 2 }, 'ok', { lease: '100', ttl: 2 })
    .op(1, 'lease-put', [2 * MS, 3 * MS], { key: 'lk1', value: 'v1', lease: '100' }, 'ok', { revision: 2 })
    .op(3, 'lease-grant', [0, 1 * MS], { ttl: 2 }, 'ok', { lease: '200', ttl: 2 })
    .op(3, 'lease-put', [4 * MS, 5 * MS], { key: 'lk3', value: 'v3', lease: '200' }, 'ok', { revision: 3 })
    .op(1, 'lease-keepalive', [1 * S, 1 * S + MS], { lease: '100' }, 'ok', { ttl: 2 })
    .op(1, 'lease-revoke', [1.5 * S, 1.5 * S + MS], { lease: '100' }, 'ok', { revision: 4 })
    .op(2, 'read', [1.6 * S, 1.6 * S + MS], { key: 'lk1' }, 'ok', { value: o.readAfterRevoke ?? null })
    .op(1, 'lease-put', [1.7 * S, 1.7 * S + MS], { key: 'lk2', value: 'v2', lease: '100' }, o.putAfterRevoke === true ? 'ok' : 'fail', o.putAfterRevoke === true ? { revision: 9 } : { error: 'etcdserver: requested lease not found' })
    .op(3, 'lease-ttl', [3 * S, 3 * S + MS], { lease: '200' }, 'ok', { ttl: -1 })
    .op(2, 'read', [10 * S, 10 * S + MS], { key: 'lk3' }, 'ok', { value: o.lateRead ?? null });
  const events: WatchEventRecord[] = [put('lk1', 'v1', 2, 2, 1, { lease: '100' }), put('lk3', 'v3', 3, 3, 1, { lease: '200' }), del('lk1', 4), del('lk3', 5)];
  const watcher = watchRecord('w', [resp([del('lk3', 5)], { time_ns: o.expirySeenNs ?? 2.5 * S })], { key: 'lk3' });
  const collector = collectorRecord('c', events);
  const opts: LeaseOptions = { committed: buildCommittedLog([collector]).log!, watches: [collector, watcher], electionTimeoutMs: 1000 };
  return { events: b.build(), opts };
}

const types = (r: ReturnType<typeof checkLease>): string[] => [...new Set(r.anomalies.map((a) => a.type))].sort();

describe('lease checks', () => {
  it('pass a history where revoke and expiry behave', () => {
    const { events, opts } = scenario();
    const r = checkLease(events, opts);
    expect(r.valid, JSON.stringify(r.anomalies)).toBe(true);
    expect(r.stats['l3Checked']).toBe(1);
    expect(r.stats['l4Checked']).toBe(2);
  });

  it('L1: a key alive after its lease was revoked', () => {
    const { events, opts } = scenario({ readAfterRevoke: 'v1' });
    expect(types(checkLease(events, opts))).toEqual(['lease-revoked-key-alive']);
  });

  it('L2: one lease deleting its keys at two revisions', () => {
    const events: WatchEventRecord[] = [put('a', '1', 2, 2, 1, { lease: '7' }), put('b', '1', 3, 3, 1, { lease: '7' }), del('a', 4), del('b', 5)];
    const granted = new HistoryBuilder().op(1, 'lease-grant', [0, 1 * MS], { ttl: 2 }, 'ok', { lease: '7', ttl: 2 }).build();
    const r = checkLease(granted, { committed: buildCommittedLog([collectorRecord('c', events)]).log! });
    expect(types(r)).toEqual(['lease-split-deletion']);
    // A lease this history never touched is another writer's: its deletes are not judged.
    expect(checkLease([], { committed: buildCommittedLog([collectorRecord('c', events)]).log! }).valid).toBe(true);
  });

  it('L3: keys deleted by expiry before TTL after the last keepalive was sent', () => {
    const { events, opts } = scenario({ expirySeenNs: 0.5 * S });
    expect(types(checkLease(events, opts))).toEqual(['lease-expired-early']);
    // ... unless the injected clock offset explains it.
    expect(checkLease(events, { ...opts, clockOffsetBoundMs: 2000 }).valid).toBe(true);
  });

  it('L4: a lease not kept alive outlives TTL + election timeout + 2 s', () => {
    const { events, opts } = scenario({ lateRead: 'v3' });
    expect(types(checkLease(events, opts))).toContain('lease-outlived');
    // A fault that lasted until 8 s moves the deadline past the read.
    expect(types(checkLease(events, { ...opts, faultIntervals: [[1 * S, 8 * S]] }))).not.toContain('lease-outlived');
  });

  it('L5: a put with a revoked lease succeeds', () => {
    const { events, opts } = scenario({ putAfterRevoke: true });
    expect(types(checkLease(events, opts))).toEqual(['lease-put-after-gone']);
  });
});
