/**
 * Each MUST workload runs a few seconds against a real 3-member tsetcd, then its final phase;
 * the recorded history must be well formed (pairs, retirement after info, unique values) and
 * the watch records complete (one collector per member, agreeing).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../../cluster/local-cluster.js';
import { EtcdClient } from '../../../src/client/index.js';
import type { WatchRecord } from '../../../jepsen-lite/history.js';
import { buildCommittedLog } from '../../../jepsen-lite/checkers/committed-log.js';
import { checkLock, checkRun } from '../../../jepsen-lite/checkers/index.js';
import type { MemoryRecorder } from './harness.js';
import { writeReport } from '../../../jepsen-lite/report/index.js';
import { lockWorkload, workloads } from '../../../jepsen-lite/workloads/index.js';
import { checkWellFormed, runFor, writtenValues } from './harness.js';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.create({ size: 3, flags: ['--experimental-watch-progress-notify-interval', '500ms'] });
  cluster.startAll();
  const c = new EtcdClient({ endpoints: cluster.endpoints, timeoutMs: 1000 });
  try {
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
      try {
        await c.put({ key: 'ready', value: '1' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    c.close();
  }
}, 90_000);

afterAll(async () => {
  await cluster.stopAll('SIGKILL');
});

/** `fresh`: the cluster had compacted nothing when the workload started (else the log may be partial). */
function collectorsAgree(watches: readonly WatchRecord[], fresh = true): void {
  const collectors = new Set(watches.filter((w) => w.collector === true).map((w) => w.watcher));
  expect([...collectors].sort()).toEqual(cluster.members.map((m) => `collector-${m.name}`).sort());
  const { log, anomalies } = buildCommittedLog(watches);
  expect(anomalies).toEqual([]);
  if (fresh) expect(log?.fromRevision).toBe(1);
  else expect(log?.fromRevision).toBeGreaterThanOrEqual(1);
  expect(log?.events.length ?? 0).toBeGreaterThan(0);
}

/** The checkers find nothing wrong in a fault-free run (a check of what the workload records). */
function checkersPass(rec: MemoryRecorder, only?: string[]): void {
  const compactions = rec.events.flatMap((e) => (e.process === 'nemesis' && e.f === 'compact' ? [{ revision: (e.value as { revision: number }).revision, time_ns: e.time_ns }] : []));
  const r = checkRun({ events: rec.events, watches: rec.watches, facts: { compactions }, ...(only === undefined ? {} : { options: { only } }) });
  const bad = Object.values(r.checkers).filter((c) => c.valid !== true);
  if (process.env['DEBUG_WL'] !== undefined) for (const c of bad) for (const a of c.anomalies.slice(0, 2)) console.log(JSON.stringify(a.events.map((i) => rec.events[i])));
  expect(bad.map((c) => ({ checker: c.checker, valid: c.valid, anomalies: c.anomalies.slice(0, 3), stats: c.stats }))).toEqual([]);
}

describe('workloads against a 3-member cluster', () => {
  it('register: reads, writes and cas with revisions, ≤ 5 processes a key, final reads from every member', async () => {
    const rec = await runFor(cluster, 'register', workloads.register, 3000);
    const counts = checkWellFormed(rec.events);
    expect(counts.open).toBe(0);
    expect(counts.ok).toBeGreaterThan(100);
    const values = writtenValues(rec.events);
    expect(new Set(values).size).toBe(values.length);
    const ev = rec.clientEvents();
    expect(ev.some((e) => e.f === 'cas' && e.type === 'ok')).toBe(true);
    expect(ev.some((e) => e.f === 'cas' && e.type === 'fail' && e.error === 'cas_mismatch')).toBe(true);
    for (const e of ev) {
      if (e.type === 'ok' && e.f !== 'read') expect(e.mod_revision).toBe(e.revision);
      if (e.type === 'ok' && e.f === 'read' && e.value !== null) expect(e.mod_revision).toBeGreaterThan(0);
    }
    // ≤ 5 distinct threads' processes at once on a key: count processes with an open op per key.
    const openByKey = new Map<string, Set<number>>();
    for (const e of ev) {
      const s = openByKey.get(e.key ?? '') ?? new Set<number>();
      openByKey.set(e.key ?? '', s);
      if (e.type === 'invoke') s.add(e.process);
      else s.delete(e.process);
      expect(s.size).toBeLessThanOrEqual(5);
    }
    // The final phase read every key from every member, both ways.
    const keys = new Set(ev.filter((e) => e.f === 'write').map((e) => e.key));
    for (const m of cluster.members) {
      const finals = ev.filter((e) => e.node === m.name && e.f === 'read' && e.type === 'ok');
      for (const k of keys) expect(finals.some((e) => e.key === k)).toBe(true);
    }
    collectorsAgree(rec.watches);
    checkersPass(rec);
    // The report renders a real run.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jl-wl-report-'));
    try {
      const results = checkRun({ events: rec.events, watches: rec.watches });
      const files = await writeReport(dir, { history: rec.events, watchRecords: rec.watches, results, config: { workload: 'register', nodes: 3 } });
      expect((await readFile(files.timeline, 'utf8')).length).toBeGreaterThan(50_000);
      expect(await readFile(files.summary, 'utf8')).toContain('| register | valid |');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('append: txns of 1–4 micro-ops, guarded; reads fill in lists', async () => {
    const rec = await runFor(cluster, 'append', workloads.append, 3000);
    const counts = checkWellFormed(rec.events);
    expect(counts.open).toBe(0);
    const values = writtenValues(rec.events);
    expect(new Set(values).size).toBe(values.length);
    const ev = rec.clientEvents();
    const oks = ev.filter((e) => e.f === 'txn' && e.type === 'ok');
    expect(oks.length).toBeGreaterThan(50);
    for (const e of oks) {
      expect(e.txn?.length).toBeGreaterThanOrEqual(1);
      expect(e.txn?.length).toBeLessThanOrEqual(4);
      for (const m of e.txn ?? []) if (m[0] === 'r') expect(m[2] === null || Array.isArray(m[2])).toBe(true);
    }
    const keys = new Set(ev.flatMap((e) => (e.txn ?? []).map((m) => m[1])));
    expect(keys.size).toBeGreaterThanOrEqual(8);
    expect(ev.some((e) => e.f === 'txn' && e.type === 'fail' && e.error === 'guard_failed')).toBe(true);
    collectorsAgree(rec.watches);
    checkersPass(rec);
  });

  it('watch: writers, watchers with resumes and compacted starts, collectors per member', async () => {
    const rec = await runFor(cluster, 'watch', workloads.watch, 4000);
    const counts = checkWellFormed(rec.events);
    expect(counts.open).toBe(0);
    const values = writtenValues(rec.events);
    expect(new Set(values).size).toBe(values.length);
    const watchers = rec.watches.filter((w) => w.collector !== true);
    expect(watchers.length).toBeGreaterThan(2);
    expect(watchers.some((w) => w.responses.some((r) => r.events.length > 0))).toBe(true);
    for (const w of watchers) {
      expect(w.prev_kv).toBe(true);
      expect(w.range_end).toBe('jl/watch0');
      for (const r of w.responses) for (const e of r.events) expect(e.key.startsWith('jl/watch/')).toBe(true);
    }
    expect(rec.events.some((e) => e.process === 'nemesis' && e.f === 'compact')).toBe(true);
    collectorsAgree(rec.watches);
    checkersPass(rec);
  });

  it('lease: grants, keep-alives, puts, reads, revokes, TTL reads and a delete watcher', async () => {
    const rec = await runFor(cluster, 'lease', workloads.lease, 4000);
    const counts = checkWellFormed(rec.events);
    expect(counts.open).toBe(0);
    const ev = rec.clientEvents();
    for (const f of ['lease-grant', 'lease-keepalive', 'lease-put', 'lease-ttl', 'read'] as const) {
      expect(ev.some((e) => e.f === f && e.type === 'ok'), f).toBe(true);
    }
    for (const e of ev.filter((x) => x.f === 'lease-grant' && x.type === 'ok')) expect(e.lease).toMatch(/^\d+$/);
    expect(rec.watches.some((w) => w.watcher === 'lease-deletes' && w.filters?.includes('NOPUT') === true)).toBe(true);
    // The watch test compacted this cluster: the collectors start at the compact revision.
    collectorsAgree(rec.watches, false);
    // Not 'register': the lease workload's reads are of lease-put values, no register writes.
    checkersPass(rec, ['revision', 'lease', 'watch']);
  });

  it('wr: unguarded rw-register txns, reads as numbers or null', async () => {
    const rec = await runFor(cluster, 'wr', workloads.wr, 2000);
    expect(checkWellFormed(rec.events).open).toBe(0);
    const values = writtenValues(rec.events);
    expect(new Set(values).size).toBe(values.length);
    const oks = rec.clientEvents().filter((e) => e.f === 'txn' && e.type === 'ok');
    expect(oks.length).toBeGreaterThan(20);
    for (const e of oks) for (const m of e.txn ?? []) if (m[0] === 'r') expect(m[2] === null || typeof m[2] === 'number').toBe(true);
    // A read after the txn's own write of the key sees that write.
    for (const e of oks) {
      const w = new Map<string, number>();
      for (const m of e.txn ?? []) {
        if (m[0] === 'w') w.set(m[1], m[2]);
        if (m[0] === 'r' && w.has(m[1])) expect(m[2]).toBe(w.get(m[1]));
      }
    }
    collectorsAgree(rec.watches, false);
  });

  it('set: guarded adds of unique elements, every acknowledged one in the final reads', async () => {
    const rec = await runFor(cluster, 'set', workloads.set, 2000);
    expect(checkWellFormed(rec.events).open).toBe(0);
    const ev = rec.clientEvents();
    const acked = ev.filter((e) => e.f === 'add' && e.type === 'ok').map((e) => e.value as number);
    expect(acked.length).toBeGreaterThan(5);
    const finals = ev.filter((e) => e.f === 'read-set' && e.type === 'ok').slice(-cluster.members.length);
    for (const f of finals) {
      const got = f.value as number[];
      expect(new Set(got).size).toBe(got.length);
      for (const a of acked) expect(got).toContain(a);
    }
  });

  it('lock: through the Lock service, holds never overlap and tokens grow with every grant', async () => {
    const rec = await runFor(cluster, 'lock', workloads.lock, 2500);
    expect(checkWellFormed(rec.events).open).toBe(0);
    const ev = rec.clientEvents();
    const grants = ev.filter((e) => e.f === 'lock-acquire' && e.type === 'ok');
    expect(grants.length).toBeGreaterThan(2);
    // Lock waits rather than refusing: contenders queue, none fails for a held lock.
    expect(ev.filter((e) => e.f === 'lock-acquire' && (e.type === 'fail' || e.type === 'info'))).toEqual([]);
    // The token is the waiter key's create revision, at or before the grant's header revision,
    // and the service grants in create-revision order.
    const tokens = grants.map((e) => e.mod_revision as number);
    for (const g of grants) expect(g.mod_revision).toBeLessThanOrEqual(g.revision as number);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(tokens.length);
    const writes = ev.filter((e) => e.f === 'lock-write' && e.type === 'ok');
    expect(writes.length).toBeGreaterThan(2);
    for (const w of writes) expect(tokens).toContain(w.mod_revision);
    expect(ev.filter((e) => e.f === 'lock-release' && e.type === 'ok').length).toBeGreaterThanOrEqual(grants.length - 1);
    checkersPass(rec, ['lock']);
    // Without faults the holds do not even overlap in belief: the fencing-free check passes too.
    const plain = checkLock(rec.events, { fencing: false });
    expect(plain.anomalies).toEqual([]);
    expect(plain.valid).toBe(true);
  });

  it('lock: without fencing, the record is harness-side and holds through the Lock service do not overlap', async () => {
    const rec = await runFor(cluster, 'lock', () => lockWorkload({ fencing: false }), 2000);
    expect(checkWellFormed(rec.events).open).toBe(0);
    const ev = rec.clientEvents();
    const writes = ev.filter((e) => e.f === 'lock-write');
    expect(writes.filter((e) => e.type === 'ok').length).toBeGreaterThan(2);
    // No token on the invoke: the checker infers the fencing-free check from that.
    for (const w of writes.filter((e) => e.type === 'invoke')) expect(w.mod_revision).toBeUndefined();
    const r = checkLock(rec.events);
    expect(r.stats['fencing']).toBe(0);
    expect(r.anomalies).toEqual([]);
    expect(r.valid).toBe(true);
  });
});
