/**
 * Random operations on the Lessor checked, after every step, against a plain array model that
 * recomputes everything by brute force (sorting and filtering instead of a heap). Renewals live
 * only in the primary's memory; checkpoints come from older logs only (this server proposes none),
 * applied on primaries and non-primaries alike. A failure prints SEED=.
 */
import { describe, expect, it } from 'vitest';
import { isEtcdError, type ErrorCode } from '../../src/errors.js';
import { Prng } from '../../src/util/index.js';
import { b, newLessor, revokeWithKeys } from './helpers.js';

const MIN_TTL = 2;
const RETRY_MS = 3000;

interface ModelLease {
  id: bigint;
  ttl: number;
  deadline: number; // applied grant or checkpoint time + the remaining time then
  keys: string[];
  expiry: number | undefined; // when primary: when it runs out
  reportAt: number | undefined; // when primary: when expired() may report it next
}

class Model {
  leases: ModelLease[] = [];
  primary = false;
  constructor(private readonly now: () => number) {}

  find(id: bigint): ModelLease | undefined {
    return this.leases.find((l) => l.id === id);
  }
  must(id: bigint): ModelLease {
    const l = this.find(id);
    if (l === undefined) throw new ModelError('LeaseNotFound');
    return l;
  }
  track(l: ModelLease, at: number): void {
    l.expiry = at;
    l.reportAt = at;
  }
  grant(id: bigint, ttl: number, remainingMs?: number): void {
    if (id === 0n) throw new ModelError('LeaseNotFound');
    if (ttl > 9_000_000_000) throw new ModelError('LeaseTTLTooLarge');
    if (this.find(id)) throw new ModelError('LeaseExist');
    const t = Math.max(ttl, MIN_TTL);
    const l: ModelLease = { id, ttl: t, deadline: this.now() + (remainingMs ?? t * 1000), keys: [], expiry: undefined, reportAt: undefined };
    this.leases.push(l);
    if (this.primary) this.track(l, l.deadline);
  }
  /** Returns the deleted keys, sorted. */
  revoke(id: bigint): string[] {
    const l = this.must(id);
    this.leases = this.leases.filter((x) => x.id !== id);
    return [...l.keys].sort();
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
  checkpoint(id: bigint, remainingMs: number): void {
    const l = this.find(id);
    if (l) l.deadline = this.now() + remainingMs; // the primary's expiry stays
  }
  promote(extend: number): void {
    if (this.primary) return; // promoted twice: what it tracks stays
    this.primary = true;
    for (const l of this.leases) this.track(l, this.now() + extend + l.ttl * 1000);
  }
  demote(): void {
    this.primary = false;
    for (const l of this.leases) {
      if (l.expiry !== undefined) l.deadline = l.expiry;
      l.expiry = l.reportAt = undefined;
    }
  }
  renew(id: bigint): number {
    if (!this.primary) throw new ModelError('NotLeader');
    const l = this.must(id);
    if (l.expiry! <= this.now()) throw new ModelError('LeaseNotFound');
    this.track(l, this.now() + l.ttl * 1000);
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
  remainingMs(id: bigint): number {
    const l = this.must(id);
    return (l.expiry ?? l.deadline) - this.now();
  }
  timeToLive(id: bigint): number {
    return Math.max(0, Math.floor(this.remainingMs(id) / 1000));
  }
  snapshot(): unknown[] {
    return [...this.leases]
      .sort((x, y) => (x.id < y.id ? -1 : 1))
      .map((l) => ({ id: l.id, ttlSeconds: l.ttl, deadlineMs: l.expiry ?? l.deadline, tracked: l.expiry !== undefined, keyCount: l.keys.length }));
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
  const { lessor, clock } = newLessor({ minTtlSeconds: MIN_TTL, expiredRetryMs: RETRY_MS });
  const model = new Model(() => clock.nowMs());
  const id = (): bigint => BigInt(rng.int(12)); // includes 0 and missing ids
  const key = (): string => `k${rng.int(20)}`;
  // Times on a 500 ms grid, so runs land exactly on expiries and retry times (off-by-one checks).
  const ms = (maxSteps: number): number => rng.int(maxSteps + 1) * 500;
  for (let step = 0; step < steps; step++) {
    const where = `SEED=${seed} step=${step}`;
    const op = rng.int(100);
    if (op < 13) {
      const i = id();
      const ttl = rng.chance(0.02) ? 9_000_000_001 : rng.range(-1, 30);
      if (rng.chance(0.25)) {
        const remaining = ms(60); // a restored lease: what it had left when persisted
        both(() => void lessor.grant(i, ttl, remaining), () => model.grant(i, ttl, remaining), `${where} restore`);
      } else {
        both(() => void lessor.grant(i, ttl), () => model.grant(i, ttl), `${where} grant`);
      }
    } else if (op < 20) {
      const i = id();
      both(() => revokeWithKeys(lessor, i), () => model.revoke(i), `${where} revoke`);
    } else if (op < 33) {
      const i = id();
      const k = key();
      both(() => lessor.attach(i, b(k)), () => model.attach(i, k), `${where} attach`);
    } else if (op < 40) {
      const i = id();
      const k = key();
      both(() => lessor.detach(i, b(k)), () => model.detach(i, k), `${where} detach`);
    } else if (op < 47) {
      // A checkpoint from an older log (up to twice the longest TTL: it may be more than a
      // lease's TTL, which the next promote cuts back to now + extend + TTL).
      const i = id();
      const r = ms(120);
      both(() => lessor.checkpoint(i, r), () => model.checkpoint(i, r), `${where} checkpoint`);
    } else if (op < 54) {
      // A new term: usually a leader that is re-elected has stepped down first; sometimes the
      // primary is promoted again without stepping down, which must change nothing.
      if (model.primary && rng.chance(0.7)) {
        lessor.demote();
        model.demote();
        clock.advance(ms(4));
      }
      const extend = ms(6);
      lessor.promote(extend);
      model.promote(extend);
    } else if (op < 57) {
      lessor.demote();
      model.demote();
    } else if (op < 71) {
      const i = id();
      both(() => lessor.renew(i), () => model.renew(i), `${where} renew`);
    } else if (op < 84) {
      clock.advance(ms(8));
    } else if (op < 94) {
      const limit = rng.range(1, 4);
      const got = lessor.expired(limit).map((l) => l.id);
      expect(got, `${where} expired`).toEqual(model.expired(limit));
      // Sometimes the server revokes what it was told about, sometimes the proposal is lost.
      for (const i of got) if (rng.chance(0.5)) both(() => revokeWithKeys(lessor, i), () => model.revoke(i), `${where} revoke expired`);
    } else if (op < 97) {
      const i = id();
      both(() => lessor.timeToLive(i, false).ttlSeconds, () => model.timeToLive(i), `${where} timeToLive`);
    } else {
      const i = id();
      both(() => lessor.remainingMs(i), () => model.remainingMs(i), `${where} remainingMs`);
    }
    expect(lessor.isPrimary, where).toBe(model.primary);
    expect(lessor.leases(), where).toEqual(model.snapshot());
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
