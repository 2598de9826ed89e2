/**
 * What the msgpackr frame bodies carry, and strict decoding of them. A peer is trusted to be a
 * member of the cluster, but not to be bug-free or the right version: anything malformed is a
 * protocol error that closes the connection, never a crash and never a message handed to raft.
 *
 * Handshake bodies are arrays (compact, fixed positions):
 *   Hello        [version, 'stream' | 'snapshot', from, to, clusterId]   (ids are bigint, msgpack uint64)
 *   Welcome      [version, listenerId]
 *   Reject       [code, reason]
 *   SnapshotAck  [ok, reason]
 * Batch bodies are a msgpack array of messages, each laid out by the transport's MessageCodec
 * (plainCodec below: msgpackr maps); SnapshotHeader is the caller's object.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { MessageCodec, PeerMessage } from './types.js';

// Same settings as the WAL so that anything the server persists also travels: no record
// extension (messages are self-describing maps), and bigints beyond 64 bits still round-trip.
// 64-bit bigints (member ids) are msgpack int64/uint64 and decode as bigint.
export const packr = new Packr({ useRecords: false, useBigIntExtension: true });

// copyBuffers: a decoded Uint8Array field gets its own memory instead of a view into the socket
// chunk. Raft keeps entry data for a long time, and a 10-byte entry must not pin a 64 KiB chunk.
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

/**
 * What a member speaks on the peer port; a peer speaking another is refused at the handshake.
 * 2: the server's raft messages are positional arrays (src/server/raft-codec.ts), not maps.
 */
export const PROTOCOL_VERSION = 2;

/** The handshake is tiny; before it is accepted, a peer may not make us buffer more than this. */
export const MAX_HANDSHAKE_BYTES = 1024;

export type ConnectionKind = 'stream' | 'snapshot';

export interface Hello {
  readonly version: number;
  readonly kind: ConnectionKind;
  readonly from: bigint;
  readonly to: bigint;
  readonly clusterId: bigint;
}

export type RejectCode = 'PROTOCOL_VERSION' | 'CLUSTER_ID_MISMATCH' | 'WRONG_MEMBER' | 'UNKNOWN_MEMBER' | 'MALFORMED';

/** A body that does not decode or has the wrong shape. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

export function unpack(body: Uint8Array): unknown {
  try {
    return unpackr.unpack(body);
  } catch (err) {
    throw new CodecError(`undecodable frame body: ${(err as Error).message}`);
  }
}

export function isU64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
}

export function encodeHello(h: Hello): Uint8Array {
  return packr.pack([h.version, h.kind, h.from, h.to, h.clusterId]);
}

/**
 * Decodes a Hello. A version we do not speak comes back as such (so the listener can answer
 * PROTOCOL_VERSION with a reason instead of "malformed"); a current-version Hello must have
 * exactly the current shape.
 */
export function decodeHello(body: Uint8Array): { hello: Hello } | { unsupportedVersion: number } {
  const v = unpack(body);
  if (!Array.isArray(v) || v.length < 1 || typeof v[0] !== 'number') throw new CodecError('hello is not [version, ...]');
  const [version, kind, from, to, clusterId] = v as unknown[];
  if (version !== PROTOCOL_VERSION) return { unsupportedVersion: v[0] };
  if (v.length !== 5) throw new CodecError('hello has the wrong number of fields');
  if (kind !== 'stream' && kind !== 'snapshot') throw new CodecError(`hello has an unknown connection kind ${String(kind)}`);
  if (!isU64(from) || !isU64(to) || !isU64(clusterId)) throw new CodecError('hello ids are not u64');
  return { hello: { version, kind, from, to, clusterId } };
}

export function encodeWelcome(listenerId: bigint): Uint8Array {
  return packr.pack([PROTOCOL_VERSION, listenerId]);
}

export function decodeWelcome(body: Uint8Array): { version: number; listenerId: bigint } {
  const v = unpack(body);
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || !isU64(v[1])) throw new CodecError('welcome has the wrong shape');
  return { version: v[0], listenerId: v[1] };
}

export function encodeReject(code: RejectCode, reason: string): Uint8Array {
  return packr.pack([code, reason]);
}

export function decodeReject(body: Uint8Array): { code: string; reason: string } {
  const v = unpack(body);
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
    throw new CodecError('reject has the wrong shape');
  }
  return { code: v[0], reason: v[1] };
}

export function encodeAck(ok: boolean, reason: string): Uint8Array {
  return packr.pack([ok, reason]);
}

export function decodeAck(body: Uint8Array): { ok: boolean; reason: string } {
  const v = unpack(body);
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'boolean' || typeof v[1] !== 'string') {
    throw new CodecError('snapshot ack has the wrong shape');
  }
  return { ok: v[0], reason: v[1] };
}

export function encodeSnapshotHeader(header: object): Uint8Array {
  return packr.pack(header);
}

export function decodeSnapshotHeader(body: Uint8Array): object {
  const v = unpack(body);
  if (typeof v !== 'object' || v === null) throw new CodecError('snapshot header is not an object');
  return v;
}

/**
 * Any msgpackr-encodable object with bigint `to` and `from`, as a msgpack map. A batch measures
 * each of its messages before it writes any (and measures again next time one that did not fit),
 * so a message is packed once when measured and the bytes kept until it is written.
 */
const packed = new WeakMap<PeerMessage, Uint8Array>();

export const plainCodec: MessageCodec = {
  encodedBytes(m) {
    let bytes = packed.get(m);
    if (bytes === undefined) packed.set(m, (bytes = packr.pack(m)));
    return bytes.length;
  },
  encodeInto(m, buf, offset) {
    const bytes = packed.get(m) ?? packr.pack(m);
    packed.delete(m);
    buf.set(bytes, offset);
    return offset + bytes.length;
  },
  decode(v) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CodecError('batch holds a non-object message');
    return v as PeerMessage;
  },
};

/**
 * A batch: the messages one peer sent in one frame. Each must be addressed to us and come from
 * the member that did the handshake; a peer that sends anything else is confused (a stale
 * address, a bug) and is disconnected rather than believed.
 */
export function decodeBatch(body: Uint8Array, self: bigint, sender: bigint, codec: MessageCodec = plainCodec): PeerMessage[] {
  const v = unpack(body);
  if (!Array.isArray(v) || v.length === 0) throw new CodecError('batch is not a non-empty array');
  const msgs: PeerMessage[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const m = codec.decode(v[i]);
    if (m.to !== self) throw new CodecError(`message addressed to ${String(m.to)}, not to this member`);
    if (m.from !== sender) throw new CodecError(`message from ${String(m.from)} on the stream of ${sender}`);
    msgs[i] = m;
  }
  return msgs;
}

/** The msgpack array header for n elements (fixarray, array16 or array32). */
export function arrayHeaderBytes(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n <= 0xffff) return Uint8Array.of(0xdc, n >>> 8, n & 0xff);
  return Uint8Array.of(0xdd, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
