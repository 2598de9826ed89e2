/**
 * The gRPC server on our own HTTP/2 (src/api/grpc-server.ts, src/api/h2/), driven at the
 * protocol level by node's HTTP/2 client (nghttp2, another implementation) and by raw frames:
 * framing and trailers, grpc-go's statuses for what it refuses, flow control both ways, PING,
 * and protocol violations. The RPCs' semantics are tested through real clients elsewhere.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiProtos } from '../../src/api/proto.js';
import { parseTimeout, percentEncode } from '../../src/api/grpc-server.js';
import { ErrorCode, FrameType, frame, settingsFrame, CLIENT_PREFACE, FRAME_HEADER_BYTES } from '../../src/api/h2/frame.js';
import { startFake, type FakeServer } from './helpers.js';

const protos = apiProtos();
const type = (name: string) => protos.root.lookupType(name);

interface CallResult {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function call(session: http2.ClientHttp2Session, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => resolve({ status: head[':status'] as number | undefined, headers: head, trailers, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

/** grpc-status and grpc-message from trailers, or from the headers of a trailers-only response. */
function statusOf(r: CallResult): { code: string; message: string } {
  const src = r.trailers['grpc-status'] !== undefined ? r.trailers : r.headers;
  return { code: String(src['grpc-status']), message: decodeURIComponent(String(src['grpc-message'] ?? '')) };
}

function messagesOf(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const n = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + n));
    at += 5 + n;
  }
  return out;
}

describe('gRPC server on our HTTP/2', () => {
  let fake: FakeServer;
  let session: http2.ClientHttp2Session;
  beforeAll(async () => {
    fake = await startFake();
    session = http2.connect(fake.endpoint);
  });
  afterAll(async () => {
    session.close();
    await fake.close();
  });

  const put = type('etcdserverpb.PutRequest');
  const range = type('etcdserverpb.RangeRequest');
  const rangeResponse = type('etcdserverpb.RangeResponse');

  it('answers a unary call with headers, one message and grpc-status 0 in trailers', async () => {
    const p = await call(session, '/etcdserverpb.KV/Put', grpcFrame(put.encode({ key: Buffer.from('a'), value: Buffer.from('1') }).finish()));
    expect(p.status).toBe(200);
    expect(p.headers['content-type']).toBe('application/grpc');
    expect(statusOf(p)).toEqual({ code: '0', message: '' });
    const r = await call(session, '/etcdserverpb.KV/Range', grpcFrame(range.encode({ key: Buffer.from('a') }).finish()));
    const [msg] = messagesOf(r.body);
    const decoded = rangeResponse.toObject(rangeResponse.decode(msg as Buffer), { bytes: String }) as { kvs: { value: string }[] };
    expect(decoded.kvs.map((kv) => Buffer.from(kv.value, 'base64').toString())).toEqual(['1']);
  });

  it("refuses unknown services and methods in grpc-go's words, trailers-only", async () => {
    const svc = await call(session, '/etcdserverpb.Nope/Range', grpcFrame(new Uint8Array()));
    expect(statusOf(svc)).toEqual({ code: '12', message: 'unknown service etcdserverpb.Nope' });
    expect(svc.body.length).toBe(0);
    const m = await call(session, '/etcdserverpb.KV/Nope', grpcFrame(new Uint8Array()));
    expect(statusOf(m)).toEqual({ code: '12', message: 'unknown method Nope for service etcdserverpb.KV' });
  });

  it('refuses a message over the receive limit with RESOURCE_EXHAUSTED', async () => {
    const limit = fake.member.limits.maxRequestBytes + 512 * 1024;
    const big = Buffer.alloc(limit + 10);
    const r = await call(session, '/etcdserverpb.KV/Put', grpcFrame(big));
    expect(statusOf(r)).toEqual({ code: '8', message: `grpc: received message larger than max (${limit + 10} vs. ${limit})` });
  });

  it('refuses compressed messages it cannot decompress', async () => {
    const r = await call(session, '/etcdserverpb.KV/Range', grpcFrame(new Uint8Array()), { 'grpc-encoding': 'gzip' });
    expect(statusOf(r)).toEqual({ code: '12', message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' });
  });

  it('an unmarshallable request is INTERNAL, and the connection goes on', async () => {
    const r = await call(session, '/etcdserverpb.KV/Range', grpcFrame(Buffer.from([0xff, 0xff, 0xff])));
    expect(statusOf(r).code).toBe('13');
    expect(statusOf(r).message).toMatch(/^grpc: error unmarshalling request: /);
    const ok = await call(session, '/etcdserverpb.KV/Range', grpcFrame(range.encode({ key: Buffer.from('a') }).finish()));
    expect(statusOf(ok).code).toBe('0');
  });

  it("sends a response larger than the client's windows as the client opens them", async () => {
    const small = http2.connect(fake.endpoint, { settings: { initialWindowSize: 1024 } });
    try {
      const value = Buffer.alloc(300 * 1024, 7);
      await call(small, '/etcdserverpb.KV/Put', grpcFrame(put.encode({ key: Buffer.from('big'), value }).finish()));
      const r = await call(small, '/etcdserverpb.KV/Range', grpcFrame(range.encode({ key: Buffer.from('big') }).finish()));
      expect(statusOf(r).code).toBe('0');
      const decoded = rangeResponse.decode(messagesOf(r.body)[0] as Buffer) as unknown as { kvs: { value: Uint8Array }[] };
      expect(Buffer.from(decoded.kvs[0]?.value ?? []).equals(value)).toBe(true);
    } finally {
      small.close();
    }
  });

  it('takes requests in many DATA frames and many calls at once on one connection', async () => {
    const calls = Array.from({ length: 50 }, (_, i) =>
      call(session, '/etcdserverpb.KV/Put', grpcFrame(put.encode({ key: Buffer.from(`k${i}`), value: Buffer.alloc(40_000, i) }).finish())),
    );
    const results = await Promise.all(calls);
    expect(results.map((r) => statusOf(r).code)).toEqual(Array(50).fill('0'));
  });

  it('answers PING', async () => {
    const acked = await new Promise<boolean>((resolve) => session.ping(Buffer.from('12345678'), (err) => resolve(err === null)));
    expect(acked).toBe(true);
  });
});

describe('HTTP/2 protocol errors', () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  /** Sends raw bytes after the preface and our SETTINGS; resolves with the frames the server sent until it closed. */
  function raw(bytes: Buffer): Promise<{ type: number; payload: Buffer }[]> {
    return new Promise((resolve) => {
      const socket = net.connect(fake.port, '127.0.0.1');
      let input = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => (input = Buffer.concat([input, d])));
      socket.on('error', () => {});
      socket.on('close', () => {
        const frames: { type: number; payload: Buffer }[] = [];
        for (let at = 0; at + FRAME_HEADER_BYTES <= input.length; ) {
          const len = input.readUIntBE(at, 3);
          frames.push({ type: input[at + 3] ?? -1, payload: input.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len) });
          at += FRAME_HEADER_BYTES + len;
        }
        resolve(frames);
      });
      socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), bytes]));
    });
  }

  const goAwayCode = (frames: { type: number; payload: Buffer }[]): number | undefined => frames.find((f) => f.type === FrameType.GoAway)?.payload.readUInt32BE(4);

  it('DATA on stream 0 ends the connection with PROTOCOL_ERROR', async () => {
    expect(goAwayCode(await raw(frame(FrameType.Data, 0, 0, Buffer.from('x'))))).toBe(ErrorCode.ProtocolError);
  });

  it('a frame larger than the default max frame size is FRAME_SIZE_ERROR', async () => {
    expect(goAwayCode(await raw(frame(FrameType.Data, 0, 1, Buffer.alloc(20_000))))).toBe(ErrorCode.FrameSizeError);
  });

  it('a header block that does not decode is COMPRESSION_ERROR', async () => {
    // 0x80: indexed field 0, which does not exist.
    expect(goAwayCode(await raw(frame(FrameType.Headers, 0x4, 1, Buffer.from([0x80]))))).toBe(ErrorCode.CompressionError);
  });

  it('an even stream id from a client is PROTOCOL_ERROR', async () => {
    expect(goAwayCode(await raw(frame(FrameType.Headers, 0x5, 2, Buffer.from([0x83]))))).toBe(ErrorCode.ProtocolError);
  });

  it('another frame inside a header block is PROTOCOL_ERROR', async () => {
    const bytes = Buffer.concat([frame(FrameType.Headers, 0, 1, Buffer.from([0x83])), frame(FrameType.Ping, 0, 0, Buffer.alloc(8))]);
    expect(goAwayCode(await raw(bytes))).toBe(ErrorCode.ProtocolError);
  });
});

describe('grpc-timeout and grpc-message', () => {
  it('parses every unit and refuses malformed values', () => {
    expect(parseTimeout('2H')).toBe(7_200_000);
    expect(parseTimeout('3M')).toBe(180_000);
    expect(parseTimeout('5S')).toBe(5000);
    expect(parseTimeout('100m')).toBe(100);
    expect(parseTimeout('2000u')).toBe(2);
    expect(parseTimeout('1000000n')).toBe(1);
    expect(parseTimeout('123456789S')).toBeUndefined();
    expect(parseTimeout('5s')).toBeUndefined();
    expect(parseTimeout(undefined)).toBeUndefined();
  });

  it('percent-encodes what is not printable ASCII, and % itself', () => {
    expect(percentEncode('etcdserver: key not found')).toBe('etcdserver: key not found');
    expect(percentEncode('100% é\n')).toBe('100%25 %C3%A9%0A');
  });
});
