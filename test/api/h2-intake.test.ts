/**
 * The HTTP/2 intake (h2-intake.ts, hpack.ts): our SETTINGS, PINGs answered before the hand-over,
 * and the `:authority` repair that lets etcdctl 3.4's per-endpoint connections
 * (`:authority: http://host:port`) through nghttp2. The Huffman table is checked against what
 * nghttp2's own encoder (node's HTTP/2 client) produces.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SETTINGS_FRAME, HTTP2_PREFACE, Http2Intake } from '../../src/api/h2-intake.js';
import { decodeInteger, encodeInteger, huffmanDecodePrintable, isValidAuthority, repairAuthority } from '../../src/api/hpack.js';
import { apiProtos } from '../../src/api/proto.js';
import { startFake, type FakeServer } from './helpers.js';

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));

interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

function parseFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({ type: bytes[at + 3] as number, flags: bytes[at + 4] as number, streamId: bytes.readUInt32BE(at + 5), payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** The literals of a header block as [name or static index, value, huffman?] (test-side HPACK walk). */
function literals(block: Buffer): [string | number, string, boolean][] {
  const out: [string | number, string, boolean][] = [];
  const str = (at: number): { text: string; next: number; huffman: boolean } => {
    const len = decodeInteger(block, at, 7);
    if (len === undefined) throw new Error('truncated');
    const bytes = block.subarray(len.next, len.next + len.value);
    const huffman = ((block[at] as number) & 0x80) !== 0;
    const text = huffman ? huffmanDecodePrintable(bytes) : bytes.toString('latin1');
    if (text === undefined) throw new Error(`undecodable string at ${at}`);
    return { text, next: len.next + len.value, huffman };
  };
  let at = 0;
  while (at < block.length) {
    const first = block[at] as number;
    if ((first & 0x80) !== 0) {
      at = (decodeInteger(block, at, 7) as { next: number }).next;
      continue;
    }
    if ((first & 0xe0) === 0x20) {
      at = (decodeInteger(block, at, 5) as { next: number }).next;
      continue;
    }
    const index = decodeInteger(block, at, (first & 0x40) !== 0 ? 6 : 4) as { value: number; next: number };
    let name: string | number = index.value;
    at = index.next;
    if (index.value === 0) {
      const n = str(at);
      name = n.text;
      at = n.next;
    }
    const v = str(at);
    out.push([name, v.text, v.huffman]);
    at = v.next;
  }
  return out;
}

/** The bytes node's HTTP/2 client (nghttp2) sends for one request with these headers. */
async function captureRequestBytes(headers: http2.OutgoingHttpHeaders): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let gotHeaders!: () => void;
  const done = new Promise<void>((r) => (gotHeaders = r));
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length > HTTP2_PREFACE.length && parseFrames(all.subarray(HTTP2_PREFACE.length)).some((f) => f.type === 1)) gotHeaders();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const req = session.request(headers, { endStream: true });
  req.on('error', () => {});
  await done;
  session.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return Buffer.concat(chunks);
}

function headerBlock(bytes: Buffer): Buffer {
  const headers = parseFrames(bytes.subarray(HTTP2_PREFACE.length)).find((f) => f.type === 1);
  if (headers === undefined) throw new Error('no HEADERS frame');
  expect(headers.flags & 0x4).toBe(0x4);
  expect(headers.flags & 0x28).toBe(0);
  return headers.payload;
}

describe('api: HPACK', () => {
  it('decodes every printable character as nghttp2 Huffman-codes it', async () => {
    // Each value is one character padded with '0's (5-bit codes), so Huffman always wins.
    const headers: http2.OutgoingHttpHeaders = { ':path': '/', ':method': 'POST' };
    for (const [i, ch] of PRINTABLE.entries()) headers[`x-char-${i}`] = `0000000000${ch}0000000000`;
    const found = new Map(literals(headerBlock(await captureRequestBytes(headers))).map(([name, value, huffman]) => [name, { value, huffman }]));
    for (const [i, ch] of PRINTABLE.entries()) {
      const got = found.get(`x-char-${i}`);
      expect(got?.huffman, `character ${JSON.stringify(ch)}`).toBe(true);
      expect(got?.value, `character ${JSON.stringify(ch)}`).toBe(`0000000000${ch}0000000000`);
    }
    expect(huffmanDecodePrintable(Buffer.from([0xff]))).toBeUndefined(); // 8 bits of padding: invalid
    expect(huffmanDecodePrintable(Buffer.from([0x00, 0x00, 0x00, 0x00]))).toBeUndefined(); // padding must be ones
    expect(huffmanDecodePrintable(Buffer.from([0x00, 0x00, 0x00, 0x03]))).toBe('000000');
  });

  it('encodes and decodes prefixed integers', () => {
    for (const [value, prefix] of [
      [10, 5],
      [31, 5],
      [1337, 5],
      [127, 7],
      [300000, 7],
    ] as const) {
      const bytes = encodeInteger(value, prefix, 0);
      expect(decodeInteger(bytes, 0, prefix)).toEqual({ value, next: bytes.length });
    }
    expect(encodeInteger(1337, 5, 0)).toEqual(Buffer.from([31, 154, 10])); // RFC 7541 C.1.2
  });

  it("repairs etcdctl 3.4's scheme-prefixed :authority, and leaves valid ones alone", async () => {
    const bad = headerBlock(await captureRequestBytes({ ':path': '/etcdserverpb.Maintenance/Status', ':method': 'POST', ':authority': 'http://127.0.0.1:23790', te: 'trailers' }));
    expect(literals(bad).find(([n]) => n === 1)?.[1]).toBe('http://127.0.0.1:23790');
    const repaired = repairAuthority(bad);
    expect(repaired).not.toBe(bad);
    const before = literals(bad);
    const after = literals(repaired);
    expect(after.map(([n, v]) => [n, v])).toEqual(before.map(([n, v]) => (n === 1 ? [n, '127.0.0.1:23790'] : [n, v])));

    const good = headerBlock(await captureRequestBytes({ ':path': '/x', ':method': 'POST', ':authority': '127.0.0.1:23790' }));
    expect(repairAuthority(good)).toBe(good);
    expect(isValidAuthority('[::1]:2379')).toBe(true);
    expect(isValidAuthority('http://a:1')).toBe(false);
  });
});

describe('api: HTTP/2 intake', () => {
  const settings = frame(4, 0, 0);
  const settingsAck = frame(4, 1, 0);
  const ping = frame(6, 0, 0, Buffer.from('12345678'));
  const windowUpdate = frame(8, 0, 0, Buffer.from([0, 0, 0x10, 0]));

  it('sends SETTINGS, answers PINGs, drops the ACK of its SETTINGS, and waits for the first request', () => {
    const sent: Buffer[] = [];
    const intake = new Http2Intake((b) => sent.push(b));
    expect(sent).toEqual([EMPTY_SETTINGS_FRAME]);
    expect(intake.push(Buffer.concat([settings, windowUpdate]))).toBe('reading');
    expect(intake.push(ping.subarray(0, 10))).toBe('reading');
    expect(intake.push(ping.subarray(10))).toBe('reading');
    expect(sent[1]).toEqual(frame(6, 1, 0, Buffer.from('12345678')));
    expect(intake.push(settingsAck)).toBe('reading');
    const headers = frame(1, 5, 1, Buffer.from([0x83, 0x86]));
    const data = frame(0, 1, 1, Buffer.from([0, 0, 0, 0, 0]));
    expect(intake.push(Buffer.concat([headers, data.subarray(0, 4)]))).toBe('done');
    expect(intake.buffered()).toEqual(Buffer.concat([HTTP2_PREFACE, settings, windowUpdate, headers, data.subarray(0, 4)]));
  });

  it('waits for the ACK when the request comes first (node clients do not wait for SETTINGS)', () => {
    const intake = new Http2Intake(() => {});
    const headers = frame(1, 5, 1, Buffer.from([0x83, 0x86]));
    expect(intake.push(Buffer.concat([settings, headers]))).toBe('reading');
    expect(intake.push(Buffer.concat([settingsAck, frame(4, 1, 0)]))).toBe('done');
    // Only the first ACK is ours; a later one belongs to nghttp2's SETTINGS.
    expect(intake.buffered()).toEqual(Buffer.concat([HTTP2_PREFACE, settings, headers, frame(4, 1, 0)]));
  });

  it('gives up on a client that sends too much without a request', () => {
    const intake = new Http2Intake(() => {});
    expect(intake.push(frame(0, 0, 1, Buffer.alloc(16000)))).toBe('reading');
    let state = 'reading';
    for (let i = 0; i < 80 && state === 'reading'; i++) state = intake.push(frame(0, 0, 1, Buffer.alloc(16000)));
    expect(state).toBe('invalid');
  });
});

describe('api: HTTP/2 connections end to end', () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = await startFake();
    await fake.member.put({ key: Buffer.from('k'), value: Buffer.from('v') });
  });
  afterAll(async () => {
    await fake.close();
  });

  /** One unary gRPC call made by hand, so the headers (and :authority) are ours to choose. */
  async function rawRange(authority: string, pingFirst: boolean): Promise<{ grpcStatus: string | undefined; value: string | undefined }> {
    const protos = apiProtos();
    const req = protos.root.lookupType('etcdserverpb.RangeRequest');
    const res = protos.root.lookupType('etcdserverpb.RangeResponse');
    const session = http2.connect(fake.endpoint);
    try {
      if (pingFirst) {
        await new Promise<void>((resolve) => session.once('connect', () => resolve()));
        await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
      }
      const message = req.encode(req.fromObject({ key: Buffer.from('k') })).finish();
      const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
      const stream = session.request({ ':path': '/etcdserverpb.KV/Range', ':method': 'POST', ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let grpcStatus: string | undefined;
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('trailers', (t) => (grpcStatus = t['grpc-status'] as string | undefined));
      stream.end(framed);
      await new Promise<void>((resolve, reject) => {
        stream.on('close', () => resolve());
        stream.on('error', reject);
      });
      const body = Buffer.concat(chunks);
      const decoded = body.length > 5 ? (res.toObject(res.decode(body.subarray(5))) as { kvs?: { value: Buffer }[] }) : {};
      return { grpcStatus, value: decoded.kvs?.[0]?.value.toString() };
    } finally {
      session.destroy();
    }
  }

  it('serves a request whose :authority nghttp2 would refuse (etcdctl 3.4 endpoint status)', async () => {
    expect(await rawRange(`http://127.0.0.1:${fake.port}`, false)).toEqual({ grpcStatus: '0', value: 'v' });
  });

  it('answers a PING that comes before the first request', async () => {
    expect(await rawRange(`127.0.0.1:${fake.port}`, true)).toEqual({ grpcStatus: '0', value: 'v' });
  });
});
