/**
 * Raft messages on the peer stream (src/server/raft-codec.ts): every message raft can send comes
 * back equal through a batch frame's body, each encoding is exactly as long as measured, and
 * anything malformed is a CodecError (which closes the connection), never a message for raft.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryType, MessageType, type Entry, type Message } from '../../src/raft/index.js';
import { raftMessageCodec as codec } from '../../src/server/raft-codec.js';
import { arrayHeaderBytes, CodecError, decodeBatch, packr, plainCodec } from '../../src/transport/codec.js';

const U64_MAX = (1n << 64n) - 1n;

const safeInt = fc.oneof(fc.constantFrom(0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat());
const nodeId = fc.oneof(fc.constantFrom(1n, 2n, U64_MAX), fc.bigInt({ min: 1n, max: U64_MAX }));
// Sizes around each msgpack bin header's limits.
const bytes = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 20 },
  { arbitrary: fc.constantFrom(255, 256, 65535, 65536).map((n) => new Uint8Array(n).fill(n & 0xff)), weight: 1 },
);
const entry: fc.Arbitrary<Entry> = fc.record({ term: safeInt, index: safeInt, type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange), data: bytes });

function message(to: bigint, from: bigint): fc.Arbitrary<Message> {
  return fc
    .record({
      type: fc.constantFrom(...Object.values(MessageType)),
      term: safeInt,
      logTerm: safeInt,
      index: safeInt,
      entries: fc.array(entry, { maxLength: 8 }),
      commit: safeInt,
      reject: fc.boolean(),
      rejectHint: safeInt,
      context: fc.option(bytes, { nil: undefined }),
      snapshot: fc.option(
        fc.record({
          metadata: fc.record({ index: safeInt, term: safeInt, confState: fc.record({ voters: fc.array(nodeId, { maxLength: 5 }), learners: fc.array(nodeId, { maxLength: 3 }) }) }),
          data: bytes,
        }),
        { nil: undefined },
      ),
    })
    .map(({ context, snapshot, ...rest }) => {
      const m: { -readonly [K in keyof Message]: Message[K] } = { ...rest, to, from };
      if (context !== undefined) m.context = context;
      if (snapshot !== undefined) m.snapshot = snapshot;
      return m;
    });
}

/** A batch body as the peer stream lays it out: the array header, then each message in place. */
function batchBody(msgs: readonly Message[]): Buffer {
  const head = arrayHeaderBytes(msgs.length);
  const sizes = msgs.map((m) => codec.encodedBytes(m));
  const body = Buffer.alloc(head.length + sizes.reduce((a, b) => a + b, 0));
  body.set(head, 0);
  let at = head.length;
  msgs.forEach((m, i) => {
    const end = codec.encodeInto(m, body, at);
    expect(end - at).toBe(sizes[i]);
    at = end;
  });
  return body;
}

/** The value with every byte array as a hex string: deep equality of 64 KiB arrays is slow. */
function bytesAsHex(v: unknown): unknown {
  if (v instanceof Uint8Array) return `${v.constructor.name}:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (Array.isArray(v)) return v.map(bytesAsHex);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesAsHex(x)]));
  return v;
}

/** One message's fields as raft-codec writes them, for building malformed ones. */
function fields(m: Message): unknown[] {
  return packr.unpack(batchBody([m]).subarray(1)) as unknown[];
}

const heartbeat: Message = { type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 3, logTerm: 0, index: 0, entries: [], commit: 7, reject: false, rejectHint: 0 };

describe('raft messages on the peer stream', () => {
  it('round-trips any batch of messages, each exactly as long as measured', () => {
    const batch = fc.tuple(nodeId, nodeId).chain(([to, from]) => fc.tuple(fc.constant(to), fc.constant(from), fc.array(message(to, from), { minLength: 1, maxLength: 4 })));
    fc.assert(
      fc.property(batch, ([to, from, msgs]) => {
        expect(bytesAsHex(decodeBatch(batchBody(msgs), to, from, codec))).toEqual(bytesAsHex(msgs));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes entry data and context as plain Uint8Arrays that own their bytes', () => {
    const m: Message = { ...heartbeat, type: MessageType.MsgApp, entries: [{ term: 3, index: 8, type: EntryType.Normal, data: Uint8Array.of(1, 2, 3) }], context: Uint8Array.of(9) };
    const body = batchBody([m]);
    const [got] = decodeBatch(body, 2n, 1n, codec) as Message[];
    body.fill(0);
    expect(got?.entries[0]?.data.constructor).toBe(Uint8Array);
    expect(got?.entries[0]?.data).toEqual(Uint8Array.of(1, 2, 3));
    expect(got?.context).toEqual(Uint8Array.of(9));
  });

  it('is smaller than the same message as a msgpackr map', () => {
    const m: Message = { ...heartbeat, type: MessageType.MsgApp, entries: [{ term: 3, index: 8, type: EntryType.Normal, data: new Uint8Array(256) }] };
    expect(codec.encodedBytes(m)).toBeLessThan(plainCodec.encodedBytes(m) - 60);
  });

  it('refuses what is not a well-formed message, field by field', () => {
    const good = fields({ ...heartbeat, entries: [{ term: 1, index: 2, type: EntryType.Normal, data: Uint8Array.of(1) }] });
    const withField = (i: number, v: unknown): unknown[] => good.map((x, k) => (k === i ? v : x));
    const bad: [unknown, RegExp][] = [
      [{ ...heartbeat }, /not an array of 12/],
      [good.slice(0, 11), /not an array of 12/],
      [withField(0, 99), /unknown type code 99/],
      [withField(0, 'MsgApp'), /unknown type code/],
      [withField(1, 2), /to\/from are not u64/],
      [withField(2, -1n), /to\/from are not u64/],
      [withField(3, -1), /not a safe integer/],
      [withField(5, 1.5), /not a safe integer/],
      [withField(6, 2 ** 53), /not a safe integer/],
      [withField(7, 0), /reject is not a boolean/],
      [withField(9, [1, 2, 0]), /entries are not/],
      [withField(9, [1, 2, 7, Uint8Array.of()]), /unknown type 7/],
      [withField(9, [1, 2, 0, 'x']), /data is not bytes/],
      [withField(9, [1, -2, 0, Uint8Array.of()]), /term or index/],
      [withField(10, { metadata: { index: 1 } }), /snapshot has the wrong shape/],
      [withField(11, 'ctx'), /context is not bytes/],
    ];
    for (const [v, why] of bad) {
      const body = Buffer.concat([arrayHeaderBytes(1), packr.pack(v)]);
      expect(() => decodeBatch(body, 2n, 1n, codec), JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))).toThrow(why);
    }
    expect(() => decodeBatch(Buffer.concat([arrayHeaderBytes(1), packr.pack(good)]), 2n, 1n, codec)).not.toThrow();
  });

  it('refuses a message another protocol version would send (a msgpackr map)', () => {
    const body = Buffer.concat([arrayHeaderBytes(1), packr.pack(heartbeat)]);
    expect(() => decodeBatch(body, 2n, 1n, codec)).toThrow(CodecError);
  });

  it('checks who a decoded message is for and from', () => {
    const body = batchBody([heartbeat]);
    expect(() => decodeBatch(body, 3n, 1n, codec)).toThrow(/addressed to 2/);
    expect(() => decodeBatch(body, 2n, 5n, codec)).toThrow(/on the stream of 5/);
  });
});
