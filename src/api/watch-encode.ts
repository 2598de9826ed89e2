/**
 * WatchResponse encoded by hand, for the gRPC side of Watch: a put seen by many watchers is one
 * Event object shared by all their responses (src/watch shapes events without copying), so its
 * protobuf bytes are encoded once and reused, and the header of one revision likewise. Going
 * through protobufjs instead costs an object conversion per response (with the 64-bit ids parsed
 * from strings each time), which profiling showed to dominate fan-out to many watchers.
 *
 * Fields as in proto/ (etcdserverpb.WatchResponse, ResponseHeader, mvccpb.Event, KeyValue);
 * like Go's encoder, fields at their default value are left out.
 */
import type { Event, KeyValue, ResponseHeader, WatchResult } from '../server/service.js';

/** A WatchResponse object (from watchResultOut) carries its WatchResult under this symbol. */
export const WATCH_RESULT = Symbol('watchResult');

const eventBytes = new WeakMap<Event, Buffer>();
let lastHeader: { h: ResponseHeader; bytes: Buffer } | undefined;

export function encodeWatchResponse(r: WatchResult): Buffer {
  const w = new Writer();
  w.message(1, headerBytes(r.header));
  if (r.watchId !== 0) w.varint64(2, r.watchId);
  if (r.created === true) w.bool(3);
  if (r.canceled === true) w.bool(4);
  if (r.compactRevision !== undefined && r.compactRevision !== 0) w.varint64(5, r.compactRevision);
  if (r.cancelReason !== undefined && r.cancelReason !== '') w.bytes(6, Buffer.from(r.cancelReason, 'utf8'));
  if (r.fragment === true) w.bool(7);
  for (const ev of r.events) w.message(11, encodedEvent(ev));
  return w.finish();
}

function headerBytes(h: ResponseHeader): Buffer {
  const last = lastHeader;
  if (last !== undefined && last.h.revision === h.revision && last.h.raftTerm === h.raftTerm && last.h.memberId === h.memberId && last.h.clusterId === h.clusterId) {
    return last.bytes;
  }
  const w = new Writer();
  if (h.clusterId !== 0n) w.uvarintBig(1, h.clusterId);
  if (h.memberId !== 0n) w.uvarintBig(2, h.memberId);
  if (h.revision !== 0) w.varint64(3, h.revision);
  if (h.raftTerm !== 0) w.varint64(4, h.raftTerm);
  const bytes = w.finish();
  lastHeader = { h, bytes };
  return bytes;
}

function encodedEvent(ev: Event): Buffer {
  let bytes = eventBytes.get(ev);
  if (bytes === undefined) {
    const w = new Writer();
    if (ev.type !== 0) w.varint64(1, ev.type);
    w.message(2, kvBytes(ev.kv));
    if (ev.prevKv !== undefined) w.message(3, kvBytes(ev.prevKv));
    bytes = w.finish();
    eventBytes.set(ev, bytes);
  }
  return bytes;
}

function kvBytes(kv: KeyValue): Buffer {
  const w = new Writer();
  if (kv.key.length > 0) w.bytes(1, kv.key);
  if (kv.createRevision !== 0) w.varint64(2, kv.createRevision);
  if (kv.modRevision !== 0) w.varint64(3, kv.modRevision);
  if (kv.version !== 0) w.varint64(4, kv.version);
  if (kv.value.length > 0) w.bytes(5, kv.value);
  // int64: a negative lease id is ten bytes of two's complement, as Go writes it.
  if (kv.lease !== 0n) w.uvarintBig(6, BigInt.asUintN(64, kv.lease));
  return w.finish();
}

/** Collects chunks and concatenates them once. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];

  varint64(field: number, n: number): void {
    this.tag(field, 0);
    if (n < 0) {
      this.uvarintBigRaw(BigInt.asUintN(64, BigInt(n)));
      return;
    }
    this.uvarint(n);
  }

  uvarintBig(field: number, n: bigint): void {
    this.tag(field, 0);
    this.uvarintBigRaw(n);
  }

  bool(field: number): void {
    this.tag(field, 0);
    this.scratch.push(1);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.uvarint(b.length);
    this.flush();
    this.parts.push(b);
  }

  message(field: number, b: Uint8Array): void {
    this.bytes(field, b);
  }

  finish(): Buffer {
    this.flush();
    return Buffer.concat(this.parts);
  }

  private tag(field: number, wireType: number): void {
    this.uvarint(field * 8 + wireType);
  }

  /** A non-negative safe integer as a varint (7 bits at a time; division keeps it exact above 2^31). */
  private uvarint(n: number): void {
    while (n >= 0x80) {
      this.scratch.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.scratch.push(n);
  }

  private uvarintBigRaw(n: bigint): void {
    while (n >= 0x80n) {
      this.scratch.push(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.scratch.push(Number(n));
  }

  private flush(): void {
    if (this.scratch.length > 0) {
      this.parts.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }
}
