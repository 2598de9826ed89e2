/** tsetcd-bench's command line: etcd benchmark's flag names, defaults and syntax. */
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError, varintLength, type Config } from '../../bench/tsetcd-bench/flags.js';
import { numberedKey, putVarint } from '../../bench/tsetcd-bench/keys.js';
import { pickDistinct } from '../../bench/tsetcd-bench/worker.js';

const parse = (...argv: string[]): Config => {
  const r = parseCommandLine(argv, 4);
  if (!('config' in r)) throw new Error('expected a config, got help');
  return r.config;
};

describe('parseCommandLine', () => {
  it('has etcd benchmark defaults', () => {
    const c = parse('put');
    expect(c.global).toEqual({
      endpoints: ['127.0.0.1:2379'],
      conns: 1,
      clients: 1,
      precise: false,
      targetLeader: false,
      workers: 4,
      json: false,
      serverPids: [],
      requestTimeoutMs: 30_000,
      deadlineSeconds: 3600,
    });
    expect(c.command).toEqual({ name: 'put', total: 10000, keySize: 8, valSize: 8, rate: 0, keySpaceSize: 1, sequentialKeys: false });
    expect(parse('txn-put').command).toEqual({ name: 'txn-put', total: 10000, keySize: 8, valSize: 8, txnOps: 1, rate: 0, keySpaceSize: 1 });
    expect(parse('lease-keepalive').command).toEqual({ name: 'lease-keepalive', total: 10000 });
    expect(parse('watch').command).toMatchObject({ streams: 10, watchPerStream: 100, watchedKeyTotal: 1, putRate: 0, putTotal: 1000, keySize: 32, keySpaceSize: 1, sequentialKeys: false });
    expect(parse('watch-latency').command).toMatchObject({ putTotal: 1000, putRate: 100, keySize: 32, valSize: 32, streams: 10, watchersPerStream: 10, prevKv: false });
    expect(parse('stm').command).toMatchObject({ isolation: 'r', keys: 1, total: 10000, keysPerTxn: 1, txnWrPercent: 50, locker: 'stm', valSize: 8, rate: 0 });
  });

  it('takes --flag=value and --flag value, global flags before or after the command', () => {
    const c = parse('--endpoints=http://127.0.0.1:1,127.0.0.1:2', '--clients', '100', 'put', '--conns=10', '--total', '5000', '--sequential-keys', '--precise=true', '--json');
    expect(c.global).toMatchObject({ endpoints: ['http://127.0.0.1:1', '127.0.0.1:2'], clients: 100, conns: 10, precise: true, json: true });
    expect(c.command).toMatchObject({ name: 'put', total: 5000, sequentialKeys: true });
    expect(parse('put', '--sequential-keys=false').command).toMatchObject({ sequentialKeys: false });
  });

  it('parses range KEY [END] with consistency and limit', () => {
    expect(parse('range', 'foo').command).toEqual({ name: 'range', key: 'foo', end: '', consistency: 'l', total: 10000, rate: 0, limit: 0 });
    expect(parse('--clients=2', 'range', 'a', 'z', '--consistency=s', '--limit', '5').command).toMatchObject({ key: 'a', end: 'z', consistency: 's', limit: 5 });
    expect(() => parse('range')).toThrow(UsageError);
    expect(() => parse('range', 'a', 'b', 'c')).toThrow(UsageError);
    expect(() => parse('range', 'a', '--consistency=x')).toThrow(/one of l, s/);
  });

  it('takes our additions and watch-latency\'s --total alias', () => {
    const c = parse('--workers=3', '--server-pids=12,34', '--request-timeout=5', '--deadline', '60', 'watch-latency', '--total=77', '--prevkv');
    expect(c.global).toMatchObject({ workers: 3, serverPids: [12, 34], requestTimeoutMs: 5000, deadlineSeconds: 60 });
    expect(c.command).toMatchObject({ name: 'watch-latency', putTotal: 77, prevKv: true });
    expect(parse('stm', '--isolation=ss', '--stm-locker=lock-rpc', '--keys=10', '--keys-per-txn=3').command).toMatchObject({ isolation: 'ss', locker: 'lock-rpc', keys: 10, keysPerTxn: 3 });
  });

  it('refuses what etcd refuses, and what would not fit', () => {
    expect(() => parse('put', '--bogus')).toThrow(/unknown flag: --bogus/);
    expect(() => parse('put', '--streams=3')).toThrow(/unknown flag/);
    expect(() => parse('nope')).toThrow(/unknown command "nope"/);
    expect(() => parse('put', '--total=abc')).toThrow(/not an integer/);
    expect(() => parse('put', '--total=0')).toThrow(UsageError);
    expect(() => parse('put', '--total')).toThrow(/needs an argument/);
    expect(() => parse('--clients=0', 'put')).toThrow(UsageError);
    expect(() => parse('stm', '--keys=2', '--keys-per-txn=3')).toThrow(/keys-per-txn/);
    expect(() => parse('put', '--key-size=1', '--key-space-size=1000')).toThrow(/cannot hold/);
    expect(() => parse('watch-latency', '--val-size=4')).toThrow(UsageError);
    expect(() => parse('put', 'extra')).toThrow(/takes no arguments/);
  });

  it('prints help for --help and for no command', () => {
    const h = parseCommandLine(['--help'], 2);
    expect('help' in h && h.help).toContain('watch-latency');
    const p = parseCommandLine(['put', '-h'], 2);
    expect('help' in p && p.help).toContain('--key-space-size int');
    expect('help' in parseCommandLine([], 2)).toBe(true);
  });
});

describe('keys', () => {
  it('writes Go binary.PutVarint bytes', () => {
    const at = (n: number): number[] => {
      const b = Buffer.alloc(10);
      return [...b.subarray(0, putVarint(b, n))];
    };
    expect(at(0)).toEqual([0]);
    expect(at(1)).toEqual([2]);
    expect(at(63)).toEqual([126]);
    expect(at(64)).toEqual([0x80, 0x01]);
    expect(at(1000)).toEqual([0xd0, 0x0f]);
    expect(at(2 ** 40)).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    expect(numberedKey(8, 5)).toEqual(Buffer.from([10, 0, 0, 0, 0, 0, 0, 0]));
    expect(() => numberedKey(1, 64)).toThrow(/does not fit/);
    expect(varintLength(63)).toBe(1);
    expect(varintLength(64)).toBe(2);
  });

  it('picks distinct key numbers', () => {
    for (const [n, range] of [[3, 1000], [9, 10], [10, 10], [0, 5]] as const) {
      const p = pickDistinct(n, range);
      expect(p).toHaveLength(n);
      expect(new Set(p).size).toBe(n);
      expect(p.every((x) => x >= 0 && x < range)).toBe(true);
    }
  });
});
