/**
 * Message streams between real transports on loopback: round trips of raft-shaped messages
 * (bigint ids, Uint8Array fields), batching, per-peer ordering, a three-member mesh, peers that
 * are removed, and messages for members that are not peers.
 */
import { describe, expect, it } from 'vitest';
import { Member, bytes, mesh, msg, sleep, until } from './helpers.js';

describe('transport: messages', () => {
  it('round-trips raft-shaped messages with bigint ids and Uint8Array fields', async () => {
    const [a, b] = await mesh(2);
    const original = {
      type: 'MsgApp',
      to: 2n,
      from: 1n,
      term: 7,
      logTerm: 6,
      index: 41,
      commit: 40,
      reject: false,
      rejectHint: 0,
      entries: [
        { term: 7, index: 42, type: 0, data: Uint8Array.of(1, 2, 3) },
        { term: 7, index: 43, type: 1, data: new Uint8Array(0) },
      ],
      context: bytes(100),
      big: (1n << 64n) - 1n,
      wide: 1n << 80n,
    };
    a!.transport.send([original]);
    await until(() => b!.received.length === 1, 'delivery');
    const got = b!.received[0] as unknown as typeof original;
    expect(got).toEqual(original);
    expect(got.entries[0]!.data.constructor).toBe(Uint8Array);
    expect(got.context.constructor).toBe(Uint8Array);
    expect(typeof got.to).toBe('bigint');
    // copyBuffers: the field owns its memory rather than pinning the socket's chunk.
    expect(got.context.byteLength).toBe(got.context.buffer.byteLength);
  });

  it('batches: many sends in one turn travel in one frame and arrive in one onMessages call', async () => {
    const [a, b] = await mesh(2);
    const before = a!.transport.stats().peers.get(2n)!.framesSent;
    for (let i = 0; i < 1000; i++) a!.transport.send([msg(1n, 2n, i)]);
    await until(() => b!.received.length === 1000, 'delivery');
    const stats = a!.transport.stats().peers.get(2n)!;
    expect(stats.framesSent - before).toBe(1);
    expect(stats.messagesSent).toBe(1000);
    expect(b!.batches).toEqual([1000]);
    expect(b!.transport.stats().peers.get(1n)).toMatchObject({ messagesReceived: 1000, framesReceived: 1 });
  });

  it('splits a batch at maxBatchBytes without reordering', async () => {
    const [a, b] = await mesh(2, { maxBatchBytes: 4096 });
    const payload = bytes(256);
    a!.transport.send(Array.from({ length: 200 }, (_, i) => msg(1n, 2n, i, payload)));
    await until(() => b!.received.length === 200, 'delivery');
    expect(b!.seqsFrom(1n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const frames = a!.transport.stats().peers.get(2n)!.framesSent;
    // ~300 bytes per message, 4 KiB per frame: about 15 frames, none over the limit.
    expect(frames).toBeGreaterThanOrEqual(200 / 14);
    expect(frames).toBeLessThanOrEqual(200 / 12);
  });

  it('preserves per-peer order across many turns and interleaved peers', async () => {
    const [a, b, c] = await mesh(3);
    let seq = 0;
    for (let turn = 0; turn < 50; turn++) {
      const batch = [];
      for (let i = 0; i < 100; i++, seq++) batch.push(msg(1n, 2n, seq), msg(1n, 3n, seq));
      a!.transport.send(batch);
      if (turn % 5 === 0) await sleep(1);
    }
    await until(() => b!.received.length === seq && c!.received.length === seq, 'delivery');
    const expected = Array.from({ length: seq }, (_, i) => i);
    expect(b!.seqsFrom(1n)).toEqual(expected);
    expect(c!.seqsFrom(1n)).toEqual(expected);
  });

  it('connects three members both ways, each message reaching exactly its target', async () => {
    const members = await mesh(3);
    for (const from of members) {
      for (const to of members) {
        if (from !== to) from.transport.send([msg(from.id, to.id, Number(from.id * 10n + to.id))]);
      }
    }
    await until(() => members.every((m) => m.received.length === 2), 'delivery');
    for (const m of members) {
      const got = m.received.map((r) => [r.from, r.seq]).sort((x, y) => Number(x[0]) - Number(y[0]));
      const others = members.filter((o) => o !== m).map((o) => [o.id, Number(o.id * 10n + m.id)]);
      expect(got).toEqual(others);
      expect(m.received.every((r) => r.to === m.id)).toBe(true);
    }
    for (const m of members) expect(m.status.filter(([, up]) => up)).toHaveLength(2);
  });

  it('drops messages for members that are not peers, counting them, without throwing', async () => {
    const [a, b] = await mesh(2);
    expect(() => a!.transport.send([msg(1n, 99n, 0), msg(1n, 2n, 1)])).not.toThrow();
    await until(() => b!.received.length === 1, 'delivery');
    expect(a!.transport.stats().unknownTargetDrops).toBe(1);
    expect(a!.logger.has('warn', 'unknown peer', '63')).toBe(true);
  });

  it('removePeer stops delivery both ways', async () => {
    const [a, b] = await mesh(2);
    a!.transport.send([msg(1n, 2n, 0)]);
    b!.transport.send([msg(2n, 1n, 0)]);
    await until(() => a!.received.length === 1 && b!.received.length === 1, 'first delivery');

    a!.transport.removePeer(2n);
    expect(a!.transport.stats().peers.has(2n)).toBe(false);
    a!.transport.send([msg(1n, 2n, 1)]);
    // b still has a as a peer: its stream to a is closed, and its redials are refused.
    await until(() => b!.logger.has('warn', 'peer unreachable', 'UNKNOWN_MEMBER'), 'b refused by a');
    b!.transport.send([msg(2n, 1n, 1)]);
    await sleep(100);
    expect(b!.received.map((m) => m.seq)).toEqual([0]);
    expect(a!.received.map((m) => m.seq)).toEqual([0]);
    expect(a!.transport.stats().unknownTargetDrops).toBe(1);
    expect(b!.unreachable).toContain(1n);
  });

  it('does not call onUnreachable from inside send()', async () => {
    const port = 1; // nothing listens on port 1, and the queue of 1 fills at once
    const a = new Member(1n, { queueLimit: 1 });
    await a.start();
    a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
    a.transport.send([msg(1n, 2n, 0), msg(1n, 2n, 1), msg(1n, 2n, 2)]);
    expect(a.unreachable).toEqual([]);
    await until(() => a.unreachable.length > 0, 'deferred report');
    expect(a.transport.stats().peers.get(2n)!.drops).toBe(2);
  });
});
