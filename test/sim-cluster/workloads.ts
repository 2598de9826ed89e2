/**
 * The simulation's clients: each thread calls one member's MemberService directly (the API
 * layer is not the point here) and records what it did in jepsen-lite's history format, so
 * jepsen-lite's checkers judge it: registers (read, write, cas), list-append txns, leases, locks
 * and watches. Values are unique over the run, so a value names the write that made it.
 */
import type { MicroOp, WatchRecord } from '../../jepsen-lite/history.js';
import { lock, unlock } from '../../src/server/lock.js';
import { CompareResult, CompareTarget, type KeyValue, type MemberService, type RequestOp, type ResponseOp } from '../../src/server/service.js';
import type { Prng } from '../../src/util/prng.js';
import { kvFields, parseValue, perform, responseRecord, text, utf8, type History, type Invoke, type Outcome, type Process } from './history.js';
import { Owner, type Scheduler } from './scheduler.js';
import type { SimNode } from './sim-node.js';

/** What the clients need from the cluster. */
export interface ClientWorld {
  readonly sched: Scheduler;
  readonly history: History;
  readonly prng: Prng;
  /** A member that is up, at random (undefined when none is). */
  pickUp(): SimNode | undefined;
  /** The run is over for the clients. */
  readonly stopping: () => boolean;
}

const OP_TIMEOUT_MS = 8000;
const REGISTER_KEYS = 3;
const APPEND_KEYS = 4;

function kvOf(responses: readonly ResponseOp[], i: number): KeyValue | undefined {
  const r = responses[i];
  return r !== undefined && 'responseRange' in r ? r.responseRange.kvs[0] : undefined;
}

export class Clients {
  readonly owner = new Owner('clients');
  private nextValue = 1;
  private registerEpoch = 0;
  private registerOps = 0;
  private readonly appendKeys: string[] = [];

  constructor(private readonly w: ClientWorld) {
    for (let i = 0; i < APPEND_KEYS; i++) this.appendKeys.push(`a/${i}`);
  }

  private async op(proc: Process, inv: Invoke, readOnly: boolean, body: (s: MemberService) => Promise<Outcome>): Promise<void> {
    const node = this.w.pickUp();
    if (node?.server === undefined) {
      await this.w.sched.sleep(50, this.owner);
      return;
    }
    const server = node.server;
    await perform(this.w.history, this.w.sched, this.owner, proc, node.name, inv, () => body(server), { timeoutMs: OP_TIMEOUT_MS, readOnly });
  }

  private registerKey(): string {
    // A fresh set of keys every 150 ops keeps the linearizability search small.
    if (++this.registerOps % 150 === 0) this.registerEpoch++;
    return `r/${this.registerEpoch}/${this.w.prng.int(REGISTER_KEYS)}`;
  }

  /** One register op: read (linearizable), write, or cas against the last value read. */
  async register(proc: Process, last: Map<string, number | null>): Promise<void> {
    const key = this.registerKey();
    const k = utf8(key);
    const roll = this.w.prng.int(3);
    if (roll === 0) {
      await this.op(proc, { f: 'read', key }, true, async (s) => {
        const r = await s.range({ key: k });
        const kv = r.kvs[0];
        const value = kv === undefined ? null : (parseValue(kv.value) as number);
        last.set(key, value);
        return { type: 'ok', value, revision: r.header.revision, ...kvFields(kv) };
      });
    } else if (roll === 1) {
      const value = this.nextValue++;
      await this.op(proc, { f: 'write', key, value }, false, async (s) => {
        const r = await s.put({ key: k, value: utf8(String(value)) });
        return { type: 'ok', revision: r.header.revision };
      });
    } else {
      const value = this.nextValue++;
      const expected = last.get(key) ?? null;
      const compare =
        expected === null
          ? { key: k, target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: 0 }
          : { key: k, target: CompareTarget.VALUE, result: CompareResult.EQUAL, value: utf8(String(expected)) };
      await this.op(proc, { f: 'cas', key, value, expected }, false, async (s) => {
        const r = await s.txn({ compare: [compare], success: [{ requestPut: { key: k, value: utf8(String(value)) } }], failure: [{ requestRange: { key: k } }] });
        if (!r.succeeded) return { type: 'fail', error: 'cas_mismatch' };
        return { type: 'ok', revision: r.header.revision };
      });
    }
  }

  /** One list-append txn: a few keys, each appended to or read, atomically (a guarded txn). */
  async append(proc: Process): Promise<void> {
    const keys = this.w.prng.shuffle([...this.appendKeys]).slice(0, 1 + this.w.prng.int(3));
    const txn: MicroOp[] = keys.map((key) => (this.w.prng.chance(0.5) ? ['append', key, this.nextValue++] : ['r', key, null]));
    await this.op(proc, { f: 'txn', txn: txn.map((m): MicroOp => [...m]) }, false, (s) => appendTxn(s, txn));
  }

  /** A lease's life: grant, put a key with it, keep it alive a few times, then revoke it or let it expire. */
  async lease(proc: Process): Promise<void> {
    const ttl = 2 + this.w.prng.int(3);
    let lease: bigint | undefined;
    await this.op(proc, { f: 'lease-grant', ttl }, false, async (s) => {
      const r = await s.leaseGrant(ttl, 0n);
      lease = r.id;
      return { type: 'ok', lease: r.id.toString(), ttl: r.ttl };
    });
    if (lease === undefined) return;
    const id = lease;
    const key = `l/${id.toString(16)}`;
    const value = this.nextValue++;
    await this.op(proc, { f: 'lease-put', key, value, lease: id.toString() }, false, async (s) => {
      const r = await s.put({ key: utf8(key), value: utf8(String(value)), lease: id });
      return { type: 'ok', revision: r.header.revision };
    });
    const rounds = this.w.prng.int(4);
    for (let i = 0; i < rounds && !this.w.stopping(); i++) {
      await this.w.sched.sleep(((ttl * 1000) / 3) * this.w.prng.float(), this.owner);
      await this.op(proc, { f: 'lease-keepalive', lease: id.toString() }, false, async (s) => {
        const r = await s.leaseKeepAlive(id);
        return { type: 'ok', ttl: r.ttl };
      });
    }
    await this.op(proc, { f: 'lease-ttl', lease: id.toString() }, true, async (s) => {
      const r = await s.leaseTimeToLive(id, false);
      return { type: 'ok', ttl: r.ttl };
    });
    if (this.w.prng.chance(0.5)) {
      await this.op(proc, { f: 'lease-revoke', lease: id.toString() }, false, async (s) => {
        await s.leaseRevoke(id);
        return { type: 'ok' };
      });
    }
    await this.w.sched.sleep(this.w.prng.int(ttl * 1500), this.owner);
    await this.op(proc, { f: 'read', key }, true, (s) => readKey(s, key));
  }

  /** Acquire a lock, hold it a little, release it. */
  async lockCycle(proc: Process, policy: Parameters<typeof lock>[4]): Promise<void> {
    const name = 'lk/0';
    let held: Uint8Array | undefined;
    const abort = new AbortController();
    await this.op(proc, { f: 'lock-acquire', key: name }, false, async (s) => {
      try {
        const r = await Promise.race([lock(s, utf8(name), 0n, abort.signal, policy), this.w.sched.sleep(OP_TIMEOUT_MS - 100, this.owner).then(() => undefined)]);
        if (r === undefined) {
          abort.abort();
          throw new Error('lock wait timed out');
        }
        held = r.key;
        return { type: 'ok', revision: r.header.revision };
      } catch (e) {
        abort.abort();
        throw e;
      }
    });
    if (held === undefined) return;
    const key = held;
    await this.w.sched.sleep(50 + this.w.prng.int(300), this.owner);
    await this.op(proc, { f: 'lock-release', key: name }, false, async (s) => {
      const r = await unlock(s, key);
      return { type: 'ok', revision: r.header.revision };
    });
  }

  /** A watcher on every register key, from now or a recent revision, until its member goes away. */
  async watch(name: string): Promise<void> {
    const node = this.w.pickUp();
    if (node?.server === undefined) return this.w.sched.sleep(200, this.owner);
    const owner = node.owner;
    const head = await Promise.race([node.server.status().then((s) => s.header.revision), this.w.sched.sleep(1000, this.owner).then(() => 0)]).catch(() => 0);
    const start = head > 0 ? Math.max(1, head - this.w.prng.int(20)) : 0;
    const record: WatchRecord = { watcher: name, node: node.name, time_ns: this.w.history.timeNs, key: 'r/', range_end: 'r0', start_revision: start, prev_kv: false, progress_notify: false, responses: [] };
    this.w.history.watches.push(record);
    if (node.server === undefined) return;
    let stream;
    try {
      stream = node.server.watch();
    } catch {
      return; // stopped meanwhile
    }
    stream.create({ key: utf8('r/'), rangeEnd: utf8('r0'), startRevision: start });
    const until = this.w.sched.now + 2000 + this.w.prng.int(8000);
    for (let i = 0; i < 100_000 && owner.alive && this.w.sched.now < until && !this.w.stopping(); i++) {
      const r = await Promise.race([stream.next(), this.w.sched.sleep(500, this.owner).then(() => 'idle' as const)]);
      if (r === 'idle') continue;
      if (r === undefined) break;
      record.responses.push(responseRecord(r, this.w.history.timeNs));
      if (r.canceled === true) break;
    }
    stream.close();
  }
}

/** A linearizable read of one key, as the register and lease checkers read it. */
export async function readKey(s: MemberService, key: string): Promise<Outcome> {
  const r = await s.range({ key: utf8(key) });
  const kv = r.kvs[0];
  return { type: 'ok', value: kv === undefined ? null : parseValue(kv.value), revision: r.header.revision, ...kvFields(kv), ...(kv !== undefined && kv.lease !== 0n ? { lease: kv.lease.toString() } : {}) };
}

/**
 * The append txn: read the lists, then write them back guarded by their mod revisions. With
 * reads only, it is one read-only txn.
 */
export async function appendTxn(s: MemberService, txn: readonly MicroOp[]): Promise<Outcome> {
  const appendKeys = [...new Set(txn.filter((m) => m[0] === 'append').map((m) => m[1]))];
  const seen = new Map<string, { list: number[]; mod: number }>();
  if (appendKeys.length > 0) {
    const r = await s.txn({ success: appendKeys.map((key) => ({ requestRange: { key: utf8(key) } })) });
    appendKeys.forEach((key, i) => {
      const kv = kvOf(r.responses, i);
      seen.set(key, kv === undefined ? { list: [], mod: 0 } : { list: JSON.parse(text(kv.value)) as number[], mod: kv.modRevision });
    });
  }
  const compare = appendKeys.map((key) => ({ key: utf8(key), target: CompareTarget.MOD, result: CompareResult.EQUAL, modRevision: seen.get(key)?.mod ?? 0 }));
  const success: RequestOp[] = txn.map((m) =>
    m[0] === 'append' ? { requestPut: { key: utf8(m[1]), value: utf8(JSON.stringify([...(seen.get(m[1])?.list ?? []), m[2]])) } } : { requestRange: { key: utf8(m[1]) } },
  );
  const r = await s.txn({ compare, success });
  if (!r.succeeded) return { type: 'fail', error: 'guard_failed' };
  const done = txn.map((m, i): MicroOp => {
    if (m[0] !== 'r') return m;
    const kv = kvOf(r.responses, i);
    return ['r', m[1], kv === undefined ? null : (JSON.parse(text(kv.value)) as number[])];
  });
  return { type: 'ok', txn: done, revision: r.header.revision };
}

/** Reads every key from rev 1 to `revision` on a member: the run's ground truth (collector). */
export async function collect(w: ClientWorld, node: SimNode, revision: number, owner: Owner): Promise<WatchRecord | undefined> {
  if (node.server === undefined) return undefined;
  const record: WatchRecord = { watcher: `collector-${node.name}`, node: node.name, time_ns: w.history.timeNs, key: '\u0000', range_end: '\u0000', start_revision: 1, prev_kv: false, progress_notify: false, collector: true, responses: [] };
  const stream = node.server.watch();
  stream.create({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), startRevision: 1 });
  let seen = 0;
  for (let i = 0; i < 1_000_000 && seen < revision; i++) {
    const r = await Promise.race([stream.next(), w.sched.sleep(5000, owner).then(() => 'idle' as const)]);
    if (r === 'idle' || r === undefined) break;
    record.responses.push(responseRecord(r, w.history.timeNs));
    for (const e of r.events) seen = Math.max(seen, e.kv.modRevision);
    if (r.canceled === true) break;
  }
  stream.close();
  return record;
}
