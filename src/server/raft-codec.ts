/**
 * Raft messages on the peer stream (the transport's MessageCodec): each message one msgpack
 * array with fixed positions, written by hand straight into the frame.
 *
 *   [type, to, from, term, logTerm, index, commit, reject, rejectHint, entries, snapshot, context]
 *
 *   type      the message type's code (WIRE_TYPES below; never reorder, only append)
 *   to, from  uint64 (msgpack 0xcf, so msgpackr decodes them as bigint)
 *   entries   a flat array [term, index, type, data, term, index, type, data, ...]
 *   snapshot  nil, or the Snapshot as a msgpack map (MsgSnap travels on a stream of its own)
 *   context   nil, or bin
 *
 * Why not msgpackr's maps: every message and every entry repeated its field names, and packing
 * and unpacking maps was the largest part of the peer stream's CPU under load (the leader
 * packs each MsgApp once per follower). An array with positions is smaller, needs no key
 * strings, and its encoded size is known before any byte is written, so a batch is laid out
 * in one buffer with no intermediate copies.
 *
 * A peer is a cluster member, trusted not to be malicious but not to be bug-free: decode checks
 * every field's type and range and throws CodecError, which closes that connection.
 */
import { Packr } from 'msgpackr';
import { EntryType, MessageType, type Entry, type Message, type Snapshot } from '../raft/index.js';
import { CodecError, type MessageCodec, type PeerMessage } from '../transport/index.js';

/** Message types by wire code. Append only: a code's meaning is part of the peer protocol. */
const WIRE_TYPES: readonly MessageType[] = [
  MessageType.MsgHup,
  MessageType.MsgBeat,
  MessageType.MsgCheckQuorum,
  MessageType.MsgProp,
  MessageType.MsgApp,
  MessageType.MsgAppResp,
  MessageType.MsgVote,
  MessageType.MsgVoteResp,
  MessageType.MsgPreVote,
  MessageType.MsgPreVoteResp,
  MessageType.MsgSnap,
  MessageType.MsgHeartbeat,
  MessageType.MsgHeartbeatResp,
  MessageType.MsgUnreachable,
  MessageType.MsgSnapStatus,
  MessageType.MsgTransferLeader,
  MessageType.MsgTimeoutNow,
  MessageType.MsgReadIndex,
  MessageType.MsgReadIndexResp,
];
const CODE_OF = new Map<MessageType, number>(WIRE_TYPES.map((t, i) => [t, i]));

const FIELDS = 12;
const U64_BYTES = 9;
const packr = new Packr({ useRecords: false, useBigIntExtension: true });

/** Bytes of a non-negative safe integer as the smallest msgpack uint, or float64 past 32 bits. */
function uintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x100) return 2;
  if (n < 0x10000) return 3;
  if (n < 0x1_0000_0000) return 5;
  return 9;
}

function writeUint(buf: Buffer, at: number, n: number): number {
  if (n < 0x80) {
    buf[at] = n;
    return at + 1;
  }
  if (n < 0x100) {
    buf[at] = 0xcc;
    buf[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    buf[at] = 0xcd;
    buf.writeUInt16BE(n, at + 1);
    return at + 3;
  }
  if (n < 0x1_0000_0000) {
    buf[at] = 0xce;
    buf.writeUInt32BE(n, at + 1);
    return at + 5;
  }
  // msgpackr decodes uint64 as bigint; a float64 holds every safe integer exactly.
  buf[at] = 0xcb;
  buf.writeDoubleBE(n, at + 1);
  return at + 9;
}

function writeU64(buf: Buffer, at: number, n: bigint): number {
  buf[at] = 0xcf;
  buf.writeBigUInt64BE(n, at + 1);
  return at + U64_BYTES;
}

function arrayHeaderSize(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}

function writeArrayHeader(buf: Buffer, at: number, n: number): number {
  if (n < 16) {
    buf[at] = 0x90 | n;
    return at + 1;
  }
  if (n < 0x10000) {
    buf[at] = 0xdc;
    buf.writeUInt16BE(n, at + 1);
    return at + 3;
  }
  buf[at] = 0xdd;
  buf.writeUInt32BE(n, at + 1);
  return at + 5;
}

function binSize(length: number): number {
  return (length < 0x100 ? 2 : length < 0x10000 ? 3 : 5) + length;
}

function writeBin(buf: Buffer, at: number, data: Uint8Array): number {
  const n = data.length;
  if (n < 0x100) {
    buf[at] = 0xc4;
    buf[at + 1] = n;
    at += 2;
  } else if (n < 0x10000) {
    buf[at] = 0xc5;
    buf.writeUInt16BE(n, at + 1);
    at += 3;
  } else {
    buf[at] = 0xc6;
    buf.writeUInt32BE(n, at + 1);
    at += 5;
  }
  buf.set(data, at);
  return at + n;
}

function entrySize(e: Entry): number {
  return uintSize(e.term) + uintSize(e.index) + 1 + binSize(e.data.length);
}

function encodedBytes(msg: PeerMessage): number {
  const m = msg as Message;
  let n = 1 + 1 + U64_BYTES * 2 + uintSize(m.term) + uintSize(m.logTerm) + uintSize(m.index) + uintSize(m.commit) + 1 + uintSize(m.rejectHint);
  n += arrayHeaderSize(4 * m.entries.length);
  for (const e of m.entries) n += entrySize(e);
  n += m.snapshot === undefined ? 1 : packr.pack(m.snapshot).length;
  n += m.context === undefined ? 1 : binSize(m.context.length);
  return n;
}

function encodeInto(msg: PeerMessage, buf: Buffer, offset: number): number {
  const m = msg as Message;
  const code = CODE_OF.get(m.type);
  if (code === undefined) throw new TypeError(`raft-codec: unknown message type ${String(m.type)}`);
  let at = writeArrayHeader(buf, offset, FIELDS);
  buf[at++] = code;
  at = writeU64(buf, at, m.to);
  at = writeU64(buf, at, m.from);
  at = writeUint(buf, at, m.term);
  at = writeUint(buf, at, m.logTerm);
  at = writeUint(buf, at, m.index);
  at = writeUint(buf, at, m.commit);
  buf[at++] = m.reject ? 0xc3 : 0xc2;
  at = writeUint(buf, at, m.rejectHint);
  at = writeArrayHeader(buf, at, 4 * m.entries.length);
  for (const e of m.entries) {
    at = writeUint(buf, at, e.term);
    at = writeUint(buf, at, e.index);
    buf[at++] = e.type;
    at = writeBin(buf, at, e.data);
  }
  if (m.snapshot === undefined) buf[at++] = 0xc0;
  else {
    // Packed twice (for its size, then here): only a MsgSnap carries one, and it has a stream of its own.
    const s = packr.pack(m.snapshot);
    buf.set(s, at);
    at += s.length;
  }
  if (m.context === undefined) buf[at++] = 0xc0;
  else at = writeBin(buf, at, m.context);
  return at;
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isU64(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
}

/** A plain Uint8Array view (msgpackr hands out Buffers). */
function asBytes(v: Uint8Array): Uint8Array {
  return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function decodeEntries(v: unknown): Entry[] {
  if (!Array.isArray(v) || v.length % 4 !== 0) throw new CodecError('raft message entries are not [term, index, type, data]*');
  const out: Entry[] = new Array(v.length / 4);
  for (let i = 0, k = 0; i < v.length; i += 4, k++) {
    const term: unknown = v[i];
    const index: unknown = v[i + 1];
    const type: unknown = v[i + 2];
    const data: unknown = v[i + 3];
    if (!isIndex(term) || !isIndex(index)) throw new CodecError('raft entry term or index is not a safe integer');
    if (type !== EntryType.Normal && type !== EntryType.ConfChange) throw new CodecError(`raft entry has an unknown type ${String(type)}`);
    if (!(data instanceof Uint8Array)) throw new CodecError('raft entry data is not bytes');
    out[k] = { term, index, type, data: asBytes(data) };
  }
  return out;
}

function isNodeIdList(v: unknown): v is bigint[] {
  return Array.isArray(v) && v.every(isU64);
}

function decodeSnapshot(v: unknown): Snapshot {
  const s = v as { metadata?: { index?: unknown; term?: unknown; confState?: { voters?: unknown; learners?: unknown } }; data?: unknown };
  const md = typeof s === 'object' && s !== null ? s.metadata : undefined;
  const cs = md?.confState;
  if (md === undefined || !isIndex(md.index) || !isIndex(md.term) || !isNodeIdList(cs?.voters) || !isNodeIdList(cs.learners) || !(s.data instanceof Uint8Array)) {
    throw new CodecError('raft message snapshot has the wrong shape');
  }
  return { metadata: { index: md.index, term: md.term, confState: { voters: cs.voters, learners: cs.learners } }, data: asBytes(s.data) };
}

function decode(v: unknown): PeerMessage {
  if (!Array.isArray(v) || v.length !== FIELDS) throw new CodecError('raft message is not an array of 12 fields');
  const [code, to, from, term, logTerm, index, commit, reject, rejectHint, entries, snapshot, context] = v as unknown[];
  const type = typeof code === 'number' ? WIRE_TYPES[code] : undefined;
  if (type === undefined) throw new CodecError(`raft message has an unknown type code ${String(code)}`);
  if (!isU64(to) || !isU64(from)) throw new CodecError('raft message to/from are not u64');
  if (!isIndex(term) || !isIndex(logTerm) || !isIndex(index) || !isIndex(commit) || !isIndex(rejectHint)) {
    throw new CodecError('raft message term, logTerm, index, commit or rejectHint is not a safe integer');
  }
  if (typeof reject !== 'boolean') throw new CodecError('raft message reject is not a boolean');
  if (context !== null && !(context instanceof Uint8Array)) throw new CodecError('raft message context is not bytes');
  const m: { -readonly [K in keyof Message]: Message[K] } = { type, to, from, term, logTerm, index, entries: decodeEntries(entries), commit, reject, rejectHint };
  if (snapshot !== null) m.snapshot = decodeSnapshot(snapshot);
  if (context !== null) m.context = asBytes(context);
  return m;
}

export const raftMessageCodec: MessageCodec = { encodedBytes, encodeInto, decode };
