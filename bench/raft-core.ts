/**
 * Throughput of the Raft core alone: three members over MemoryStorage, messages handed over
 * synchronously, no I/O. Node 1 leads; each round proposes a batch of 256-byte entries and then
 * runs every member's Ready loop until the cluster is quiet. Reported: entries per second that
 * all three members applied, for a few batch sizes.
 *
 * Run: npm run bench:raft-core  (BENCH_MS=<ms per configuration> to change the 3 s default)
 *
 * The loop is local rather than test/raft/network.ts: that helper records every message for
 * inspection, which would measure the recorder.
 */
import { performance } from 'node:perf_hooks';
import { EntryType, MemoryStorage, RawNode, StateType, type ConfState, type Message, type NodeId } from '../src/raft/index.js';
import { Prng } from '../src/util/prng.js';

const ENTRY_BYTES = 256;
const BATCH_SIZES = [64, 256, 1024];
const WARMUP_MS = 1000;
const RUN_MS = Number(process.env['BENCH_MS'] ?? 3000);
/** Compact a member's log once this many applied entries sit in its storage. */
const COMPACT_ENTRIES = 50_000;
/** Bound on Ready/deliver rounds per stabilize; a healthy cluster needs a handful. */
const MAX_ROUNDS = 10_000;

interface Member {
  readonly id: NodeId;
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
  readonly inbox: Message[];
  appliedIndex: number;
  appliedEntries: number;
}

const CONF: ConfState = { voters: [1n, 2n, 3n], learners: [] };

function newCluster(): Member[] {
  const members = CONF.voters.map((id): Member => {
    const storage = new MemoryStorage();
    storage.bootstrap(CONF);
    const raw = new RawNode({ id, electionTick: 10, heartbeatTick: 1, storage, prng: new Prng(Number(id)) });
    return { id, raw, storage, inbox: [], appliedIndex: 1, appliedEntries: 0 };
  });
  (members[0] as Member).raw.campaign();
  stabilize(members);
  if ((members[0] as Member).raw.status().state !== StateType.Leader) throw new Error('bench: node 1 did not become leader');
  return members;
}

function memberOf(members: Member[], id: NodeId): Member {
  const m = members[Number(id) - 1];
  if (m === undefined || m.id !== id) throw new Error(`bench: no member ${id}`);
  return m;
}

/** The application loop of notes/raft-api.md, for every member, until no Ready and no message is left. */
function stabilize(members: Member[]): void {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    let busy = false;
    for (const m of members) {
      if (!m.raw.hasReady()) continue;
      busy = true;
      const rd = m.raw.ready();
      if (rd.snapshot !== undefined) throw new Error('bench: unexpected snapshot');
      m.storage.append(rd.entries);
      if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
      for (const msg of rd.leaderMessages) memberOf(members, msg.to).inbox.push(msg);
      for (const msg of rd.messages) memberOf(members, msg.to).inbox.push(msg);
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.Normal && e.data.byteLength > 0) m.appliedEntries++;
        m.appliedIndex = e.index;
      }
      m.raw.advance();
    }
    for (const m of members) {
      if (m.inbox.length === 0) continue;
      busy = true;
      for (const msg of m.inbox.splice(0)) m.raw.step(msg);
    }
    if (!busy) return;
  }
  throw new Error(`bench: cluster still busy after ${MAX_ROUNDS} rounds`);
}

/** Keep memory flat: snapshot (empty state) at the applied index and drop the entries before it. */
function maybeCompact(members: Member[]): void {
  for (const m of members) {
    if (m.appliedIndex - m.storage.firstIndex() < COMPACT_ENTRIES) continue;
    m.storage.createSnapshot(m.appliedIndex, CONF, new Uint8Array(0));
    m.storage.compact(m.appliedIndex);
  }
}

const appliedOnAll = (members: Member[]): number => Math.min(...members.map((m) => m.appliedEntries));

/** Propose batches for `ms` milliseconds; returns the entries all members applied in that time and the time taken. */
function drive(members: Member[], batch: number, payload: Uint8Array, ms: number): { entries: number; seconds: number } {
  const leader = members[0] as Member;
  const before = appliedOnAll(members);
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) leader.raw.propose(payload);
    stabilize(members);
    maybeCompact(members);
    now = performance.now();
  }
  return { entries: appliedOnAll(members) - before, seconds: (now - start) / 1000 };
}

function main(): void {
  const payload = Uint8Array.from({ length: ENTRY_BYTES }, (_, i) => (i * 31) & 0xff);

  console.log(`raft core: 3 members, in-memory, ${ENTRY_BYTES}-byte entries, ${WARMUP_MS} ms warmup + ${RUN_MS} ms per batch size`);
  const rows: string[][] = [['batch', 'entries/s', 'entries', 'heap used MiB']];
  for (const batch of BATCH_SIZES) {
    const members = newCluster();
    drive(members, batch, payload, WARMUP_MS);
    const { entries, seconds } = drive(members, batch, payload, RUN_MS);
    const heapMiB = process.memoryUsage().heapUsed / (1024 * 1024);
    for (const m of members) {
      if (m.appliedIndex !== leaderCommit(members)) throw new Error(`bench: member ${m.id} did not apply everything`);
    }
    rows.push([String(batch), Math.round(entries / seconds).toLocaleString('en-US'), String(entries), heapMiB.toFixed(1)]);
  }
  printTable(rows);
}

function leaderCommit(members: Member[]): number {
  return (members[0] as Member).raw.status().commit;
}

function printTable(rows: string[][]): void {
  const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  '));
}

main();
