/**
 * The small parts the transport is built from: the bounded queue, backoff, the rate gate, peer
 * URLs, and the snapshot body stream's buffering and pausing.
 */
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/transport/backoff.js';
import { ChunkStream } from '../../src/transport/chunk-stream.js';
import { MessageQueue } from '../../src/transport/message-queue.js';
import { formatPeerUrl, parsePeerUrl } from '../../src/transport/peer-url.js';
import { RateGate } from '../../src/transport/rate-gate.js';
import { TransportError } from '../../src/transport/index.js';
import { Prng } from '../../src/util/prng.js';

describe('MessageQueue', () => {
  it('is a FIFO that refuses pushes when full, across wrap-around', () => {
    const q = new MessageQueue<number>(4);
    expect([q.push(1), q.push(2), q.push(3)]).toEqual([true, true, true]);
    expect(q.shift()).toBe(1);
    expect([q.push(4), q.push(5), q.push(6)]).toEqual([true, true, false]);
    expect(q.length).toBe(4);
    const out: number[] = [];
    for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
    expect(out).toEqual([2, 3, 4, 5]);
    expect(q.peek()).toBeUndefined();
  });
});

describe('Backoff', () => {
  it('doubles from min to max with jitter in the upper half of each step, and resets', () => {
    const prng = new Prng(1);
    const b = new Backoff(50, 1000, () => prng.float());
    const steps = [50, 100, 200, 400, 800, 1000, 1000, 1000];
    for (const step of steps) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(50);
  });
});

describe('RateGate', () => {
  it('passes at most once per interval', () => {
    const g = new RateGate(100);
    expect([g.tryPass(0), g.tryPass(50), g.tryPass(99), g.tryPass(100), g.tryPass(150), g.tryPass(250)]).toEqual([
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('peer URLs', () => {
  it('parses etcd-style peer URLs, including IPv6 and default ports', () => {
    expect(parsePeerUrl('http://127.0.0.1:2380')).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: 2380 });
    expect(parsePeerUrl('https://[::1]:2380')).toMatchObject({ scheme: 'https', host: '::1', port: 2380 });
    expect(parsePeerUrl('http://node-1')).toMatchObject({ host: 'node-1', port: 80 });
    expect(formatPeerUrl('http', '::1', 5)).toBe('http://[::1]:5');
  });

  it('refuses what it cannot dial', () => {
    for (const bad of ['unix:///tmp/x', '127.0.0.1:2380', 'http://host:1/path', 'nonsense']) {
      expect(() => parsePeerUrl(bad), bad).toThrow(TransportError);
    }
  });
});

describe('ChunkStream', () => {
  it('buffers up to the high-water mark, then pauses the producer until the consumer catches up', async () => {
    const events: boolean[] = [];
    const s = new ChunkStream(10, (paused) => events.push(paused));
    s.push(new Uint8Array(6));
    expect(events).toEqual([]);
    s.push(new Uint8Array(6));
    expect(events).toEqual([true]);
    const it = s[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(6);
    expect(events).toEqual([true, false]);
    s.end();
    expect((await it.next()).value).toHaveLength(6);
    expect((await it.next()).done).toBe(true);
  });

  it('hands a chunk straight to a waiting consumer, and a failure to the next read', async () => {
    const s = new ChunkStream(10, () => {});
    const it = s[Symbol.asyncIterator]();
    const pending = it.next();
    s.push(Uint8Array.of(1));
    expect((await pending).value).toEqual(Uint8Array.of(1));
    const failing = it.next();
    s.fail(new Error('lost'));
    await expect(failing).rejects.toThrow('lost');
  });

  it('discards everything after the consumer breaks out, and resumes the producer', async () => {
    const events: boolean[] = [];
    const s = new ChunkStream(4, (p) => events.push(p));
    s.push(new Uint8Array(5));
    for await (const c of s) {
      expect(c).toHaveLength(5);
      break;
    }
    expect(s.isAbandoned).toBe(true);
    s.push(new Uint8Array(100));
    expect(events).toEqual([true, false]);
  });
});
