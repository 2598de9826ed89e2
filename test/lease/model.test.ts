/**
 * Random operations on the Lessor checked, after every step, against a plain array model that
 * recomputes everything by brute force (sorting instead of a heap). A failure prints SEED=.
 */
import { describe, expect, it } from 'vitest';
import { isEtcdError, type ErrorCode } from '../../src/errors.js';
import { Prng } from '../../src/util/index.js';
import { b, newLessor, type Deleted } from './helpers.js';

const MIN_TTL = 2;
const RETRY_MS = 3000;

interface ModelLease {
  id: bigint;
  ttl: number;
  remaining: number;
  keys: string[];
  expiry: number | undefined; // the real expiry, when primary
  reportAt: number | undefined; // when expired() may report it next, when primary
}

class Model {
  leases: ModelLease[] = [];
  primary = false;
  deleted: Deleted[] = [];
  constructor(private readonly now: () => number) {}

  find(id: bigint): ModelLease | undefined {
    return this.leases.find((l) => l.id === id);
  }
  must(id: bigint): ModelLease {
    const l = this.find(id);
    if (l === undefined) throw new ModelError('LeaseNotFound');
    return l;
  }
  effective(l: ModelLease): number {
    return l.remaining > 0 ? l.remaining : l.ttl;
  }
  refresh(l: ModelLease, extend: number): void {
    l.expiry = this.now() + extend + this.effective(l) * 1000;
    l.reportAt = l.expiry;
  }
  grant(id: bigint, ttl: number): void {
    if (id === 0n) throw new ModelError('LeaseNotFound');
    if (ttl > 9_000_000_000) throw new ModelError('LeaseTTLTooLarge');
    if (this.find(id)) throw new ModelError('LeaseExist');
    const l: ModelLease = { id, ttl: Math.max(ttl, MIN_TTL), remaining: 0, keys: [], expiry: undefined, reportAt: undefined };
    this.leases.push(l);
    if (this.primary) this.refresh(l, 0);
  }
  revoke(id: bigint): void {
    const l = this.must(id);
    if (l.keys.length > 0) this.deleted.push({ leaseId: id, keys: [...l.keys].sort() });
    this.leases = this.leases.filter((x) => x.id !== id);
  }
  attach(id: bigint, key: string): void {
    const l = this.must(id);
    for (const other of this.leases) other.keys = other.keys.filter((k) => k !== key);
    l.keys.push(key);
  }
  detach(id: bigint, key: string): void {
    const l = this.must(id);
    l.keys = l.keys.filter((k) => k !== key);
  }
  checkpoint(id: bigint, remaining: number): void {
    const l = this.find(id);
    if (l) l.remaining = remaining;
  }
  promote(extend: number): void {
    this.primary = true;
    for (const l of this.leases) this.refresh(l, extend);
  }
  demote(): void {
    this.primary = false;
    for (const l of this.leases) l.expiry = l.reportAt = undefined;
  }
  renew(id: bigint): number {
    if (!this.primary) throw new ModelError('NotLeader');
    const l = this.must(id);
    if (l.expiry! <= this.now()) throw new ModelError('LeaseNotFound');
    l.remaining = 0;
    this.refresh(l, 0);
    return l.ttl;
  }
  expired(limit: number): bigint[] {
    if (!this.primary) return [];
    const due = this.leases
      .filter((l) => l.reportAt! <= this.now())
      .sort((x, y) => x.reportAt! - y.reportAt! || (x.id < y.id ? -1 : 1))
      .slice(0, limit);
    for (const l of due) l.reportAt = this.now() + RETRY_MS;
    return due.map((l) => l.id);
  }
  timeToLive(id: bigint): number {
    const l = this.must(id);
    if (l.expiry === undefined) return this.effective(l);
    return Math.max(0, Math.floor((l.expiry - this.now()) / 1000));
  }
  snapshot(): unknown[] {
    return [...this.leases]
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .map((l) => ({ id: l.id, ttlSeconds: l.ttl, remainingTtlSeconds: l.remaining, expiryMs: l.expiry, keyCount: l.keys.length }));
  }
}

class ModelError extends Error {
  constructor(readonly code: ErrorCode) {
    super(code);
  }
}

/** Runs f on both; they must agree on the result or on the error code. */
function both<T>(real: () => T, model: () => T, where: string): void {
  let r: { ok: T } | { err: string };
  let m: { ok: T } | { err: string };
  try {
    r = { ok: real() };
  } catch (e) {
    if (!isEtcdError(e)) throw e;
    r = { err: e.code };
  }
  try {
    m = { ok: model() };
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    m = { err: e.code };
  }
  expect(r, where).toEqual(m);
}

function run(seed: number, steps: number): void {
  const rng = new Prng(seed);
  const { lessor, clock, deleted } = newLessor({ minTtlSeconds: MIN_TTL, expiredRetryMs: RETRY_MS, checkpointIntervalMs: 0 });
  const model = new Model(() => clock.nowMs());
  const id = (): bigint => BigInt(rng.int(12)); // includes 0 and missing ids
  const key = (): string => `k${rng.int(20)}`;
  for (let step = 0; step < steps; step++) {
    const where = `SEED=${seed} step=${step}`;
    const op = rng.int(100);
    if (op < 15) {
      const i = id();
      const ttl = rng.chance(0.02) ? 9_000_000_001 : rng.range(-1, 30);
      both(() => void lessor.grant(i, ttl), () => model.grant(i, ttl), `${where} grant`);
    } else if (op < 22) {
      const i = id();
      both(() => lessor.revoke(i), () => model.revoke(i), `${where} revoke`);
    } else if (op < 37) {
      const i = id();
      const k = key();
      both(() => lessor.attach(i, b(k)), () => model.attach(i, k), `${where} attach`);
    } else if (op < 45) {
      const i = id();
      const k = key();
      both(() => lessor.detach(i, b(k)), () => model.detach(i, k), `${where} detach`);
    } else if (op < 50) {
      const i = id();
      const r = rng.range(0, 30);
      both(() => lessor.checkpoint(i, r), () => model.checkpoint(i, r), `${where} checkpoint`);
    } else if (op < 53) {
      // Times on a 500 ms grid, so runs land exactly on expiries and retry times (off-by-one checks).
      const extend = rng.int(7) * 500;
      lessor.promote(extend);
      model.promote(extend);
    } else if (op < 55) {
      lessor.demote();
      model.demote();
    } else if (op < 70) {
      const i = id();
      both(() => lessor.renew(i), () => model.renew(i), `${where} renew`);
    } else if (op < 85) {
      clock.advance(rng.int(9) * 500);
    } else if (op < 95) {
      const limit = rng.range(1, 4);
      const got = lessor.expired(limit).map((l) => l.id);
      expect(got, `${where} expired`).toEqual(model.expired(limit));
      // Sometimes the server revokes what it was told about, sometimes the proposal is lost.
      for (const i of got) if (rng.chance(0.5)) both(() => lessor.revoke(i), () => model.revoke(i), `${where} revoke expired`);
    } else {
      const i = id();
      both(() => lessor.timeToLive(i, false).ttlSeconds, () => model.timeToLive(i), `${where} timeToLive`);
    }
    expect(lessor.leases(), where).toEqual(model.snapshot());
    expect(deleted, where).toEqual(model.deleted);
    lessor.checkInvariants();
  }
}

describe('lessor: randomized model check', () => {
  for (let seed = 1; seed <= 30; seed++) {
    it(`agrees with the array model (SEED=${seed})`, () => run(seed, 1500));
  }
  const extra = Number(process.env['SEED'] ?? 0);
  if (extra > 0) it(`agrees with the array model (SEED=${extra} from env)`, () => run(extra, 5000));
});
