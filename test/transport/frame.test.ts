/**
 * The frame layer and the codec: frames cut out of a byte stream however it is split, limits
 * enforced from the header alone, and strict decoding of every msgpackr body.
 */
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  arrayHeaderBytes,
  decodeAck,
  decodeBatch,
  decodeHello,
  encodeAck,
  encodeHello,
  packr,
  PROTOCOL_VERSION,
} from '../../src/transport/codec.js';
import { FrameDecoder, FrameError, FrameKind, encodeFrame, type Frame } from '../../src/transport/frame.js';
import { Prng } from '../../src/util/prng.js';

function drain(d: FrameDecoder): Frame[] {
  const out: Frame[] = [];
  for (let f = d.next(); f !== undefined; f = d.next()) out.push(f);
  return out;
}

describe('FrameDecoder', () => {
  const frames = [
    encodeFrame(FrameKind.Batch, Uint8Array.of(1, 2, 3)),
    encodeFrame(FrameKind.SnapshotEnd),
    encodeFrame(FrameKind.SnapshotChunk, new Uint8Array(300).fill(7)),
  ];
  const stream = Buffer.concat(frames);

  it('lays a frame out as u32 length | u8 kind | body', () => {
    expect([...encodeFrame(FrameKind.Batch, Uint8Array.of(0xaa, 0xbb))]).toEqual([0, 0, 0, 3, 4, 0xaa, 0xbb]);
  });

  it('decodes frames from one chunk, and from the stream split at every position', () => {
    const expected = [
      { kind: FrameKind.Batch, body: [1, 2, 3] },
      { kind: FrameKind.SnapshotEnd, body: [] },
      { kind: FrameKind.SnapshotChunk, body: new Array<number>(300).fill(7) },
    ];
    const simplify = (fs: Frame[]): { kind: FrameKind; body: number[] }[] => fs.map((f) => ({ kind: f.kind, body: [...f.body] }));
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder(1000);
      d.push(stream.subarray(0, cut));
      const got = drain(d);
      d.push(stream.subarray(cut));
      got.push(...drain(d));
      expect(simplify(got), `cut at ${cut}`).toEqual(expected);
      expect(d.bufferedBytes).toBe(0);
    }
  });

  it('decodes a stream fed in random small pieces (seeded)', () => {
    const prng = new Prng(7);
    const d = new FrameDecoder(1000);
    const got: Frame[] = [];
    for (let i = 0; i < stream.length; ) {
      const n = prng.range(1, 9);
      d.push(stream.subarray(i, i + n));
      got.push(...drain(d));
      i += n;
    }
    expect(got.map((f) => f.body.length)).toEqual([3, 0, 300]);
  });

  it('hands out plain Uint8Array bodies', () => {
    const d = new FrameDecoder(1000);
    d.push(stream);
    for (const f of drain(d)) expect(f.body.constructor).toBe(Uint8Array);
  });

  it('rejects an oversized frame from its header, before buffering the body', () => {
    const d = new FrameDecoder(100);
    d.push(encodeFrame(FrameKind.Batch, new Uint8Array(101)).subarray(0, 5));
    expect(() => d.next()).toThrow(FrameError);
    expect(() => d.next()).toThrow(/101 bytes exceeds the limit of 100/);
    const huge = new FrameDecoder(1 << 20);
    huge.push(Buffer.from('GET / HTTP/1.1\r\n'));
    expect(() => huge.next()).toThrow(/exceeds the limit/);
  });

  it('rejects a zero length and an unknown kind', () => {
    const zero = new FrameDecoder(100);
    zero.push(Uint8Array.of(0, 0, 0, 0, 4));
    expect(() => zero.next()).toThrow(/length 0/);
    const kind = new FrameDecoder(100);
    kind.push(Uint8Array.of(0, 0, 0, 1, 99));
    expect(() => kind.next()).toThrow(/unknown frame kind 99/);
  });
});

describe('codec', () => {
  it('round-trips a hello with u64 ids', () => {
    const hello = { version: PROTOCOL_VERSION, kind: 'snapshot' as const, from: (1n << 64n) - 1n, to: 2n, clusterId: 0xdeadbeefcafen };
    expect(decodeHello(encodeHello(hello))).toEqual({ hello });
  });

  it('reports an unknown protocol version instead of failing to parse it', () => {
    expect(decodeHello(packr.pack([PROTOCOL_VERSION + 1, 'stream', 'whatever']))).toEqual({ unsupportedVersion: PROTOCOL_VERSION + 1 });
    expect(decodeHello(packr.pack([1, 'stream', 1n, 2n, 3n]))).toEqual({ unsupportedVersion: 1 });
    expect(() => decodeHello(packr.pack({ version: 1 }))).toThrow(CodecError);
    expect(() => decodeHello(packr.pack([PROTOCOL_VERSION, 'stream', 1, 2, 3]))).toThrow(/not u64/);
    expect(() => decodeHello(Uint8Array.of(0xc1))).toThrow(CodecError);
  });

  it('decodes a batch built from separately packed messages', () => {
    const msgs = Array.from({ length: 20 }, (_, i) => ({ type: 'MsgHeartbeat', to: 2n, from: 1n, seq: i }));
    const body = Buffer.concat([arrayHeaderBytes(msgs.length), ...msgs.map((m) => packr.pack(m))]);
    expect(decodeBatch(body, 2n, 1n)).toEqual(msgs);
    for (const n of [0, 15, 16, 65535, 65536]) {
      const header = arrayHeaderBytes(n);
      expect(packr.unpack(Buffer.concat([header, new Uint8Array(n).fill(0xc0)])), `n=${n}`).toHaveLength(n);
    }
  });

  it('refuses batches with messages not for us, not from the stream peer, or not objects', () => {
    const pack = (v: unknown): Uint8Array => packr.pack(v);
    expect(() => decodeBatch(pack([{ to: 3n, from: 1n }]), 2n, 1n)).toThrow(/addressed to 3/);
    expect(() => decodeBatch(pack([{ to: 2n, from: 9n }]), 2n, 1n)).toThrow(/from 9/);
    expect(() => decodeBatch(pack([{ to: 2, from: 1n }]), 2n, 1n)).toThrow(CodecError);
    expect(() => decodeBatch(pack([7]), 2n, 1n)).toThrow(/non-object/);
    expect(() => decodeBatch(pack([]), 2n, 1n)).toThrow(/non-empty/);
    expect(() => decodeBatch(pack({ to: 2n, from: 1n }), 2n, 1n)).toThrow(CodecError);
  });

  it('round-trips acks', () => {
    expect(decodeAck(encodeAck(false, 'disk full'))).toEqual({ ok: false, reason: 'disk full' });
    expect(() => decodeAck(packr.pack([1, '']))).toThrow(CodecError);
  });
});
