/**
 * The process the crash test kills. A single-member pipeline as the server runs it: proposals
 * go through raft, each Ready is made durable in the WAL (one fsync), committed entries are
 * applied to the MVCC store (one LevelDB batch each, with the consistent index), and only then
 * is the write acknowledged on stdout ("ACK <id>"). Every few hundred entries it snapshots and
 * releases WAL segments, so recovery runs from snapshot + WAL tail too.
 *
 * Each write is a txn putting a/<id> and b/<id> with the same value, so a half-applied write
 * shows as a key present under one prefix and not the other.
 *
 * Usage: crash-child.ts <dir> <run-id> [--verify]
 *   --verify: recover, apply everything committed, print "STATE <json>" and exit.
 */
import path from 'node:path';
import { Level } from 'level';
import { MvccStore } from '../../src/mvcc/index.js';
import { EntryType, RawNode, StateType, type ConfState, type Entry } from '../../src/raft/index.js';
import { DiskRaftStorage } from '../../src/server/raft-storage.js';
import { Prng } from '../../src/util/prng.js';

const [dir, runId, mode] = process.argv.slice(2);
if (!dir || !runId) throw new Error('usage: crash-child.ts <dir> <run-id> [--verify]');
const verify = mode === '--verify';
const enc = new TextEncoder();
const dec = new TextDecoder();
const SNAPSHOT_EVERY = 300;
const IN_FLIGHT = 32;

async function main(): Promise<void> {
  const { storage, fresh } = await DiskRaftStorage.open(path.join(dir as string, 'raft'), enc.encode('crash-test'), { segmentBytes: 64 * 1024 });
  const conf: ConfState = { voters: [1n], learners: [] };
  if (fresh) await storage.bootstrap(conf);
  const db = new Level<Buffer, Buffer>(path.join(dir as string, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const store = await MvccStore.open(db);
  const applied = Math.max(store.consistentIndex(), storage.firstIndex() - 1);
  const node = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, prng: new Prng(Number(runId)), applied });
  node.campaign();

  let lastSnapshot = storage.firstIndex() - 1;
  let appliedIndex = applied;
  let next = 0;
  let inFlight = 0;

  async function apply(e: Entry): Promise<void> {
    appliedIndex = e.index;
    if (e.type !== EntryType.Normal || e.data.byteLength === 0 || store.isApplied(e.index)) return;
    const id = dec.decode(e.data);
    const value = enc.encode(`v-${id}`);
    await store.txn({ success: [{ requestPut: { key: enc.encode(`a/${id}`), value } }, { requestPut: { key: enc.encode(`b/${id}`), value } }] }, e.index);
    if (id.startsWith(`${runId}-`)) {
      inFlight--;
      process.stdout.write(`ACK ${id}\n`);
    }
  }

  for (let rounds = 0; rounds < 1_000_000; rounds++) {
    const leader = node.status().state === StateType.Leader;
    if (leader && !verify) {
      for (; inFlight < IN_FLIGHT; inFlight++) node.propose(enc.encode(`${runId}-${next++}`));
    }
    if (!node.hasReady()) {
      if (verify && leader && node.status().commit === appliedIndex) break;
      node.tick();
      continue;
    }
    const rd = node.ready();
    await storage.save(rd);
    for (const e of rd.committedEntries) await apply(e);
    node.advance();
    if (rounds === 0) process.stdout.write('READY\n');
    if (appliedIndex - lastSnapshot >= SNAPSHOT_EVERY) {
      await storage.createSnapshot(appliedIndex, conf, new Uint8Array(0), 50);
      lastSnapshot = appliedIndex;
    }
  }

  if (verify) {
    const a = await store.range(enc.encode('a/'), enc.encode('a0'));
    const b = await store.range(enc.encode('b/'), enc.encode('b0'));
    const ids = (kvs: { key: Uint8Array }[]): string[] => kvs.map((kv) => dec.decode(kv.key).slice(2));
    // A write applied twice (a replay that ignored the consistent index) shows as version 2.
    const reapplied = a.kvs.concat(b.kvs).filter((kv) => kv.version !== 1).map((kv) => dec.decode(kv.key));
    process.stdout.write(`STATE ${JSON.stringify({ a: ids(a.kvs), b: ids(b.kvs), rev: store.currentRev, reapplied })}\n`);
    await store.close();
    await db.close();
    await storage.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
