/**
 * Snapshots: streamed on their own connection with backpressure, acknowledged only after the
 * receiver's onSnapshot finished, and failed (with the reason) when it throws, when the
 * connection is lost, when the receiver stops reading, or when the transport stops.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../src/transport/index.js';
import { bytes, mesh, msg, sleep, until } from './helpers.js';

const MiB = 1024 * 1024;

/** A body of `total` bytes in `chunkBytes` chunks, recording how far the producer got. */
function producer(total: number, chunkBytes: number): { body: AsyncIterable<Uint8Array>; produced: () => number; hash: string; closed: () => boolean } {
  const data = bytes(total, 42);
  let produced = 0;
  let closed = false;
  async function* gen(): AsyncGenerator<Uint8Array> {
    try {
      for (let off = 0; off < total; off += chunkBytes) {
        const chunk = data.subarray(off, Math.min(total, off + chunkBytes));
        produced += chunk.length;
        yield chunk;
      }
    } finally {
      closed = true;
    }
  }
  return { body: gen(), produced: () => produced, hash: createHash('sha256').update(data).digest('hex'), closed: () => closed };
}

describe('transport: snapshots', () => {
  it('streams MiBs with backpressure and resolves once the receiver acknowledged', async () => {
    const [a, b] = await mesh(2, { snapshotBufferBytes: 256 * 1024 });
    // Larger than what loopback's socket buffers absorb (measured ~7.5 MiB with Linux's default
    // tcp_rmem/tcp_wmem maxima), so the producer must actually wait for the consumer.
    const total = 48 * MiB;
    const p = producer(total, 64 * 1024);
    let consumed = 0;
    let maxLead = 0;
    let handlerFinished = false;
    let received: { header: object; from: bigint; hash: string } | undefined;
    b!.onSnapshot = async (header, body, info) => {
      const hash = createHash('sha256');
      for await (const chunk of body) {
        hash.update(chunk);
        consumed += chunk.length;
        maxLead = Math.max(maxLead, p.produced() - consumed);
        // A slow consumer (e.g. a disk): ~1 ms per 64 KiB.
        await sleep(1);
      }
      received = { header, from: info.from, hash: hash.digest('hex') };
      await sleep(20);
      handlerFinished = true;
    };
    const header = { type: 'MsgSnap', to: 2n, from: 1n, term: 3, snapshot: { metadata: { index: 100, term: 3 } } };
    const start = Date.now();
    await a!.transport.sendSnapshot(2n, header, p.body);
    const elapsedMs = Date.now() - start;
    expect(handlerFinished).toBe(true);
    expect(received).toEqual({ header, from: 1n, hash: p.hash });
    // The producer never ran far ahead of the consumer: the sender waited for 'drain' and the
    // receiver paused its socket. What is in flight is the receive buffer plus the kernel's
    // socket buffers on both ends, a few MiB on loopback, far below the 48 MiB body.
    expect(maxLead).toBeLessThan(total / 2);
    expect(elapsedMs).toBeGreaterThan(50);
    const sent = a!.transport.stats().peers.get(2n)!;
    expect(sent).toMatchObject({ snapshotsSent: 1, snapshotsSendFailed: 0, snapshotBytesSent: total });
    expect(b!.transport.stats().peers.get(1n)).toMatchObject({ snapshotsReceived: 1, snapshotBytesReceived: total });
    // The message stream was not disturbed.
    a!.transport.send([msg(1n, 2n, 0)]);
    await until(() => b!.received.length === 1, 'message after the snapshot');
  });

  it('splits large producer chunks into chunk frames', async () => {
    const [a, b] = await mesh(2, { snapshotChunkBytes: 64 * 1024 });
    const sizes: number[] = [];
    b!.onSnapshot = async (_h, body) => {
      for await (const c of body) sizes.push(c.length);
    };
    await a!.transport.sendSnapshot(2n, {}, producer(300 * 1024, 300 * 1024).body);
    expect(sizes).toEqual([65536, 65536, 65536, 65536, 45056]);
  });

  it('rejects with the reason when the receiver’s onSnapshot throws, and stops the producer', async () => {
    const [a, b] = await mesh(2);
    b!.onSnapshot = async (_h, body) => {
      for await (const _c of body) throw new Error('disk full');
    };
    const p = producer(64 * MiB, 64 * 1024);
    const err = await a!.transport.sendSnapshot(2n, { n: 1 }, p.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('SNAPSHOT_REJECTED');
    expect((err as Error).message).toContain('disk full');
    // It failed early, not after streaming all 64 MiB.
    expect(p.produced()).toBeLessThan(32 * MiB);
    await until(() => p.closed(), 'producer closed');
    expect(a!.transport.stats().peers.get(2n)!.snapshotsSendFailed).toBe(1);
    expect(b!.transport.stats().peers.get(1n)!.snapshotsReceiveFailed).toBe(1);
    expect(b!.logger.has('warn', 'refused by onSnapshot', 'disk full')).toBe(true);
  });

  it('rejects when onSnapshot throws before reading, or synchronously', async () => {
    const [a, b] = await mesh(2);
    b!.onSnapshot = () => Promise.reject(new Error('no space'));
    await expect(a!.transport.sendSnapshot(2n, {}, producer(MiB, 64 * 1024).body)).rejects.toThrow(/no space/);
    b!.onSnapshot = () => {
      throw new Error('sync boom');
    };
    await expect(a!.transport.sendSnapshot(2n, {}, producer(1024, 64 * 1024).body)).rejects.toThrow(/sync boom/);
  });

  it('acknowledges once the End arrives when onSnapshot finishes without reading everything', async () => {
    const [a, b] = await mesh(2, { snapshotBufferBytes: 64 * 1024 });
    let first = 0;
    b!.onSnapshot = async (_h, body) => {
      for await (const c of body) {
        first = c.length;
        break;
      }
    };
    await a!.transport.sendSnapshot(2n, {}, producer(8 * MiB, 64 * 1024).body);
    expect(first).toBe(64 * 1024);
  });

  it('fails both ends when the sender stops mid-stream', async () => {
    const [a, b] = await mesh(2, { snapshotBufferBytes: 64 * 1024 });
    let bodyError: unknown;
    let started = false;
    b!.onSnapshot = async (_h, body) => {
      started = true;
      try {
        for await (const _c of body) await sleep(5);
      } catch (err) {
        bodyError = err;
        throw err;
      }
    };
    const sending = a!.transport.sendSnapshot(2n, {}, producer(64 * MiB, 64 * 1024).body);
    const outcome = sending.catch((e: unknown) => e);
    await until(() => started, 'receiving');
    await a!.transport.stop();
    const err = await outcome;
    expect((err as TransportError).code).toBe('STOPPED');
    await until(() => bodyError !== undefined, 'receiver body failed');
    expect((bodyError as TransportError).code).toBe('CONNECTION_CLOSED');
    await until(() => b!.transport.stats().peers.get(1n)!.snapshotsReceiveFailed === 1, 'receive failure counted');
  });

  it('times out when the receiver stops reading', async () => {
    const [a, b] = await mesh(2, { snapshotBufferBytes: 64 * 1024, snapshotIdleTimeoutMs: 300 });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    b!.onSnapshot = async (_h, body) => {
      const it = body[Symbol.asyncIterator]();
      await it.next();
      await gate;
      // The connection is gone by now; reading again fails.
      await it.next();
    };
    const start = Date.now();
    const err = await a!.transport.sendSnapshot(2n, {}, producer(256 * MiB, 256 * 1024).body).catch((e: unknown) => e);
    release();
    expect((err as TransportError).code).toBe('TIMEOUT');
    expect(Date.now() - start).toBeLessThan(10_000);
    await until(() => b!.transport.stats().peers.get(1n)!.snapshotsReceiveFailed === 1, 'receiver saw the failure');
  });

  it('refuses more concurrent snapshot sends than maxSnapshotSends', async () => {
    const [a, b] = await mesh(2, { maxSnapshotSends: 1 });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    b!.onSnapshot = async (_h, body) => {
      for await (const _c of body) {
        // drain
      }
      await gate;
    };
    const first = a!.transport.sendSnapshot(2n, {}, producer(1024, 1024).body);
    await expect(a!.transport.sendSnapshot(2n, {}, producer(1024, 1024).body)).rejects.toMatchObject({ code: 'BUSY' });
    release();
    await first;
    await a!.transport.sendSnapshot(2n, {}, producer(1024, 1024).body);
  });

  it('rejects a snapshot to an unknown peer, to a removed peer, and to a peer that is down', async () => {
    const [a, b] = await mesh(2, { dialTimeoutMs: 200 });
    await expect(a!.transport.sendSnapshot(9n, {}, producer(10, 10).body)).rejects.toMatchObject({ code: 'UNKNOWN_PEER' });
    // Removed while streaming.
    b!.onSnapshot = async (_h, body) => {
      for await (const _c of body) await sleep(5);
    };
    const p = producer(64 * MiB, 64 * 1024);
    const sending = a!.transport.sendSnapshot(2n, {}, p.body).catch((e: unknown) => e);
    await until(() => p.produced() > MiB, 'streaming');
    a!.transport.removePeer(2n);
    expect(await sending).toMatchObject({ code: 'STOPPED' });
    // Down: nobody listens any more.
    await b!.transport.stop();
    a!.transport.addPeer(2n, [b!.url]);
    await expect(a!.transport.sendSnapshot(2n, {}, producer(10, 10).body)).rejects.toMatchObject({ code: 'DIAL_FAILED' });
  });
});
