/**
 * Faults: a peer that restarts, a peer that is down long enough for the queue to fill, a peer
 * from another cluster, oversized frames and garbage on the peer port, URL changes, and the
 * guarantee that stop() leaves no socket or timer behind.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../src/transport/index.js';
import { encodeHello, encodeWelcome, packr } from '../../src/transport/codec.js';
import { FrameKind, encodeFrame } from '../../src/transport/frame.js';
import { Member, bytes, deadPort, liveHandles, mesh, msg, sleep, until } from './helpers.js';

/** Connects a raw socket, writes `data`, and resolves with what came back once the member closed it. */
function rawExchange(port: number, data: Uint8Array, timeoutMs = 3000): Promise<{ reply: Buffer; closedByPeer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write(data));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks), closedByPeer: false });
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closedByPeer: true });
    });
    socket.on('error', reject);
  });
}

describe('transport: faults', () => {
  it('reconnects after the receiver restarts on the same port; nothing duplicated or reordered', async () => {
    const a = await new Member(1n).start();
    const b = await new Member(2n).start();
    a.transport.addPeer(2n, [b.url]);
    b.transport.addPeer(1n, [a.url]);
    let seq = 0;
    const sendSome = (n: number): void => {
      for (let i = 0; i < n; i++) a.transport.send([msg(1n, 2n, seq++)]);
    };
    sendSome(100);
    await until(() => b.received.length === 100, 'first delivery');

    await b.transport.stop();
    // While b is down: sends neither block nor throw, and a reports b unreachable (rate-limited).
    for (let i = 0; i < 10; i++) {
      sendSome(10);
      await sleep(15);
    }
    await until(() => a.unreachable.includes(2n), 'unreachable reported');
    expect(a.transport.isActive(2n)).toBe(false);
    expect(a.status).toContainEqual([2n, false]);
    const downAt = seq;

    const b2 = await new Member(2n, { listenPeerUrls: [`http://127.0.0.1:${b.port}`] }).start();
    b2.transport.addPeer(1n, [a.url]);
    await until(() => a.transport.isActive(2n), 'reconnected');
    sendSome(100);
    await until(() => b2.seqsFrom(1n).includes(seq - 1), 'delivery after restart');

    const all = [...b.seqsFrom(1n), ...b2.seqsFrom(1n)];
    // Each message at most once, in send order across both connections...
    for (let i = 1; i < all.length; i++) expect(all[i]!).toBeGreaterThan(all[i - 1]!);
    // ...everything sent after the reconnect arrived, and what was queued while b was down
    // (the queue had room) was delivered once the stream came back.
    for (let s = downAt; s < seq; s++) expect(all).toContain(s);
    expect(a.transport.stats().peers.get(2n)!.reconnects).toBeGreaterThanOrEqual(1);
    expect(a.transport.stats().peers.get(2n)!.dialFailures).toBeGreaterThanOrEqual(1);
    expect(a.logger.has('warn', 'peer unreachable', 'ECONNREFUSED')).toBe(true);
  });

  it('drops when the queue is full, reports unreachable, and delivers what was queued once the peer is up', async () => {
    const port = await deadPort();
    const a = await new Member(1n, { queueLimit: 10 }).start();
    a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
    a.transport.send(Array.from({ length: 100 }, (_, i) => msg(1n, 2n, i)));
    expect(a.transport.stats().peers.get(2n)).toMatchObject({ drops: 90, queued: 10 });
    await until(() => a.unreachable.includes(2n), 'unreachable reported');
    // One drop burst, one report: the gate lets one through per interval.
    expect(a.unreachable.length).toBeLessThanOrEqual(2);
    expect(a.logger.has('warn', 'queue to peer full')).toBe(true);

    const b = await new Member(2n, { listenPeerUrls: [`http://127.0.0.1:${port}`] }).start();
    b.transport.addPeer(1n, [a.url]);
    await until(() => b.received.length === 10, 'queued messages delivered');
    await sleep(50);
    expect(b.seqsFrom(1n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rejects a peer with the wrong cluster id, and both sides say why', async () => {
    const a = await new Member(1n, { clusterId: 0xaaaan }).start();
    const b = await new Member(2n, { clusterId: 0xbbbbn }).start();
    a.transport.addPeer(2n, [b.url]);
    b.transport.addPeer(1n, [a.url]);
    a.transport.send([msg(1n, 2n, 0)]);
    await until(() => b.transport.stats().rejectedConnections >= 1 && a.unreachable.includes(2n), 'rejection');
    expect(b.logger.has('warn', 'rejected peer connection', 'CLUSTER_ID_MISMATCH')).toBe(true);
    expect(a.logger.has('warn', 'peer unreachable', "cluster id aaaa does not match this member's cluster id bbbb")).toBe(true);
    expect(b.received).toEqual([]);
    expect(a.transport.isActive(2n)).toBe(false);
    // Backoff: redials are spaced out, and a repeated failure is logged at debug, not warn.
    await sleep(150);
    expect(a.logger.lines.filter((l) => l.level === 'warn' && l.msg === 'transport: peer unreachable')).toHaveLength(1);
  });

  it('rejects an unknown protocol version, a handshake for another member, and a sender that is not a peer', async () => {
    const b = await new Member(2n).start();
    b.transport.addPeer(1n, ['http://127.0.0.1:1']);
    const hello = (v: unknown[]): Uint8Array => encodeFrame(FrameKind.Hello, packr.pack(v));
    const cases: [Uint8Array, string][] = [
      [hello([PROTOCOL_VERSION + 1, 'stream', 1n, 2n, 0x1000n]), 'PROTOCOL_VERSION'],
      [hello([PROTOCOL_VERSION, 'stream', 1n, 3n, 0x1000n]), 'WRONG_MEMBER'],
      [hello([PROTOCOL_VERSION, 'stream', 5n, 2n, 0x1000n]), 'UNKNOWN_MEMBER'],
      [hello([PROTOCOL_VERSION, 'gossip', 1n, 2n, 0x1000n]), 'MALFORMED'],
    ];
    for (const [frame, code] of cases) {
      const { reply, closedByPeer } = await rawExchange(b.port, frame);
      expect(closedByPeer, code).toBe(true);
      expect(reply[4], code).toBe(FrameKind.Reject);
      expect((packr.unpack(reply.subarray(5)) as string[])[0]).toBe(code);
    }
    expect(b.transport.stats().rejectedConnections).toBe(cases.length);
  });

  it('closes a connection that sends an oversized frame, logs it, and keeps serving', async () => {
    const a = await new Member(1n).start();
    const b = await new Member(2n, { maxFrameBytes: 64 * 1024 }).start();
    a.transport.addPeer(2n, [b.url]);
    b.transport.addPeer(1n, [a.url]);
    await until(() => a.transport.isActive(2n), 'connected');
    a.transport.send([msg(1n, 2n, 0, bytes(100 * 1024))]);
    await until(() => b.transport.stats().protocolErrors === 1, 'oversized frame refused');
    expect(b.logger.has('error', 'bad frame from peer', 'exceeds the limit of 65536')).toBe(true);
    expect(b.received).toEqual([]);
    // The member is fine: the stream comes back and small messages flow.
    a.transport.send([msg(1n, 2n, 1)]);
    await until(() => b.received.length === 1, 'delivery after the bad frame');
    expect(b.received[0]!.seq).toBe(1);
  });

  it('drops a message too large for any frame on the sending side', async () => {
    const [a, b] = await mesh(2, { maxFrameBytes: 32 * 1024 });
    a!.transport.send([msg(1n, 2n, 0, bytes(40 * 1024)), msg(1n, 2n, 1)]);
    await until(() => b!.received.length === 1, 'delivery');
    expect(b!.received[0]!.seq).toBe(1);
    expect(a!.transport.stats().peers.get(2n)!.drops).toBe(1);
    expect(a!.logger.has('error', 'larger than the frame limit')).toBe(true);
  });

  it('survives garbage, a huge frame header and a silent client on the peer port', async () => {
    const b = await new Member(2n, { handshakeTimeoutMs: 200 }).start();
    b.transport.addPeer(1n, ['http://127.0.0.1:1']);
    const http = await rawExchange(b.port, Buffer.from('GET /version HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(http.closedByPeer).toBe(true);
    const hugeHeader = Uint8Array.of(0x7f, 0xff, 0xff, 0xff, FrameKind.Hello);
    expect((await rawExchange(b.port, hugeHeader)).closedByPeer).toBe(true);
    // A valid hello, then a frame announcing 2 GiB: refused from the header alone.
    const hello = encodeFrame(FrameKind.Hello, encodeHello({ version: PROTOCOL_VERSION, kind: 'stream', from: 1n, to: 2n, clusterId: 0x1000n }));
    const afterHello = await rawExchange(b.port, Buffer.concat([hello, Uint8Array.of(0x7f, 0xff, 0xff, 0xff, FrameKind.Batch)]));
    expect(afterHello.closedByPeer).toBe(true);
    expect(afterHello.reply[4]).toBe(FrameKind.Welcome);
    // Says nothing: closed at the handshake timeout.
    expect((await rawExchange(b.port, new Uint8Array(0))).closedByPeer).toBe(true);
    expect(b.logger.has('warn', 'sent no handshake')).toBe(true);
    expect(b.transport.stats().protocolErrors).toBeGreaterThanOrEqual(3);
    // Still serving.
    const a = await new Member(1n).start();
    a.transport.addPeer(2n, [b.url]);
    b.transport.updatePeer(1n, [a.url]);
    a.transport.send([msg(1n, 2n, 0)]);
    await until(() => b.received.length === 1, 'delivery');
  });

  it('dials the next URL when the first is dead, and moves when updatePeer drops the current one', async () => {
    const dead = await deadPort();
    const b = await new Member(2n).start();
    const a = await new Member(1n).start();
    b.transport.addPeer(1n, [a.url]);
    a.transport.addPeer(2n, [`http://127.0.0.1:${dead}`, b.url]);
    a.transport.send([msg(1n, 2n, 0)]);
    await until(() => b.received.length === 1, 'delivery via the second URL');
    expect(a.transport.stats().peers.get(2n)!.dialFailures).toBe(0);
    const reconnectsBefore = a.transport.stats().peers.get(2n)!.reconnects;
    a.transport.updatePeer(2n, [b.url, `http://127.0.0.1:${dead}`]);
    await sleep(30);
    expect(a.transport.stats().peers.get(2n)!.reconnects).toBe(reconnectsBefore);
    a.transport.updatePeer(2n, [`http://127.0.0.1:${dead}`]);
    await until(() => !a.transport.isActive(2n), 'moved off the dropped URL');
  });

  it('cuts off a peer that accepts the handshake and then stops reading, and redials it', async () => {
    // A fake member 2: answers the handshake, then never reads again (a hung process).
    const accepted: net.Socket[] = [];
    const server = net.createServer((socket) => {
      accepted.push(socket);
      socket.once('data', () => {
        socket.write(encodeFrame(FrameKind.Welcome, encodeWelcome(2n)));
        socket.pause();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const a = await new Member(1n, { writeTimeoutMs: 200 }).start();
      a.transport.addPeer(2n, [`http://127.0.0.1:${port}`]);
      await until(() => a.transport.isActive(2n), 'handshake with the fake peer');
      // Far more than the socket buffers hold: the writes stop draining.
      const payload = bytes(64 * 1024);
      for (let i = 0; i < 1000; i++) a.transport.send([msg(1n, 2n, i, payload)]);
      await until(() => a.logger.has('warn', 'peer unreachable', 'accepted no data for 200 ms'), 'stall detected');
      await until(() => accepted.length >= 2, 'redialed');
      expect(a.unreachable).toContain(2n);
      expect(a.status).toContainEqual([2n, false]);
    } finally {
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stop() leaves no socket, server, timer or immediate behind, even mid-dial and mid-handshake', async () => {
    await sleep(20);
    const before = liveHandles();
    {
      const [a, b] = await mesh(2, { handshakeTimeoutMs: 5000 });
      const dead = await deadPort();
      a!.transport.addPeer(3n, [`http://127.0.0.1:${dead}`]);
      a!.transport.send([msg(1n, 2n, 0), msg(1n, 3n, 0)]);
      // An inbound connection still in its handshake (its timer is running).
      const raw = net.connect({ port: b!.port, host: '127.0.0.1' });
      raw.on('error', () => {});
      await sleep(30);
      await Promise.all([a!.transport.stop(), b!.transport.stop()]);
      raw.destroy();
    }
    await until(() => {
      const now = liveHandles();
      return Object.keys(now).every((k) => (now[k] ?? 0) <= (before[k] ?? 0));
    }, 'handles released');
  });
});
