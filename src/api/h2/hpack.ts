/**
 * HPACK (RFC 7541): the decoder for request header blocks, and the two representations a server
 * needs to write its own blocks without a dynamic table of its own.
 *
 * Strings are latin1 both ways, so every byte of a header round-trips and a string's length is
 * its size in octets (the unit of table and header list accounting).
 */
import { assert } from '../../util/index.js';

/** A header block that does not decode: the connection must end with COMPRESSION_ERROR. */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}

/** RFC 7541 4.1: an entry's size is its name and value octets plus this. */
const ENTRY_OVERHEAD_BYTES = 32;

/** Integers above this are not plausible lengths or indexes; rejecting them bounds the loop. */
const MAX_INTEGER = 0xffffffff;

/** RFC 7541 Appendix A; HPACK index i is STATIC_TABLE[i - 1]. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'],
  [':path', '/index.html'], [':scheme', 'http'], [':scheme', 'https'], [':status', '200'],
  [':status', '204'], [':status', '206'], [':status', '304'], [':status', '400'],
  [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''],
  ['accept', ''], ['access-control-allow-origin', ''], ['age', ''], ['allow', ''],
  ['authorization', ''], ['cache-control', ''], ['content-disposition', ''],
  ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''],
  ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''],
  ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''],
  ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''],
  ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

const EOS = 256;

/**
 * Code lengths in bits of symbols 0..255 and EOS, RFC 7541 Appendix B. That code is canonical
 * (the codes of one length are consecutive in symbol order, and each length starts where the
 * shorter ones ended, shifted left), so these lengths alone give every code.
 */
const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5,
  6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6,
  7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23,
  23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22, 21, 20, 22,
  22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22,
  23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27,
  27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25,
  24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

function canonicalCodes(lengths: readonly number[]): Uint32Array {
  const symbols = lengths.map((_, sym) => sym).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let length = lengths[symbols[0]!]!;
  for (const sym of symbols) {
    code *= 2 ** (lengths[sym]! - length);
    length = lengths[sym]!;
    codes[sym] = code++;
  }
  assert(code === 2 ** length, 'huffman code does not fill its tree');
  return codes;
}

const HUFFMAN_CODES = canonicalCodes(HUFFMAN_LENGTHS);

const STEP_FAIL = 1 << 16;
const STEP_EMIT = 1 << 17;
const STEP_ACCEPT = 1 << 18;

/**
 * Huffman decoding as a state machine fed 4 bits at a time. A state is an internal node of the
 * code tree (0 is the root; 257 leaves make 256 nodes). HUFFMAN_STEPS[state * 16 + nibble] packs
 * the state after those bits (bits 0-7), the symbol completed on the way (bits 8-15; at most one,
 * as no code is shorter than 5 bits) and flags: EMIT (a symbol completed), FAIL (the bits spelled
 * EOS, never allowed in a string) and ACCEPT (the string may end here: the bits since the last
 * symbol are all ones and fewer than 8, the only valid padding, RFC 7541 5.2).
 *
 * Example, "302" = 011001 00000 00010 = 0x64 0x02: nibble 0110 leaves the root for node "0110";
 * 0100 completes '3' after two bits and leaves node "00"; 0000 completes '0' and leaves node "0";
 * 0010 completes '2' on its last bit, back at the root, which accepts.
 */
function buildHuffmanSteps(): Uint32Array {
  // child[node * 2 + bit]: > 0 an internal node, < 0 the leaf -(symbol + 1), 0 not yet set
  // (the root is no one's child).
  const child = new Int16Array(512);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    let node = 0;
    for (let bit = HUFFMAN_LENGTHS[sym]! - 1; bit > 0; bit--) {
      const slot = node * 2 + ((code >>> bit) & 1);
      if (child[slot] === 0) child[slot] = nodes++;
      assert(child[slot]! > 0 && nodes <= 256, 'huffman code is not prefix-free');
      node = child[slot]!;
    }
    assert(child[node * 2 + (code & 1)] === 0, 'huffman code is not prefix-free');
    child[node * 2 + (code & 1)] = -(sym + 1);
  }
  assert(nodes === 256 && child.every((c) => c !== 0), 'huffman tree is not complete');

  const accepting = new Uint8Array(256);
  for (let node = 0, depth = 0; depth <= 7; depth++, node = child[node * 2 + 1]!) {
    assert(node >= 0, 'a short all-ones huffman code');
    accepting[node] = 1;
  }

  const steps = new Uint32Array(256 * 16);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let step = 0;
      for (let bit = 3; bit >= 0 && step !== STEP_FAIL; bit--) {
        const next = child[node * 2 + ((nibble >>> bit) & 1)]!;
        if (next > 0) {
          node = next;
        } else if (-next - 1 === EOS) {
          step = STEP_FAIL;
        } else {
          assert(step === 0, 'two huffman symbols in one nibble');
          step = STEP_EMIT | ((-next - 1) << 8);
          node = 0;
        }
      }
      steps[state * 16 + nibble] =
        step === STEP_FAIL ? step : step | node | (accepting[node] ? STEP_ACCEPT : 0);
    }
  }
  return steps;
}

const HUFFMAN_STEPS = buildHuffmanSteps();

/** Decodes src[start, end) into out (at least 8/5 as long), returning the octets written. */
function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let step = STEP_ACCEPT;
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    const high = HUFFMAN_STEPS[(byte >>> 4) | ((step & 0xff) << 4)]!;
    if (high & STEP_EMIT) out[length++] = (high >>> 8) & 0xff;
    step = HUFFMAN_STEPS[(byte & 0xf) | ((high & 0xff) << 4)]!;
    if (step & STEP_EMIT) out[length++] = (step >>> 8) & 0xff;
    if ((high | step) & STEP_FAIL) throw new HpackError('huffman string contains EOS');
  }
  if (!(step & STEP_ACCEPT)) throw new HpackError('bad huffman padding');
  return length;
}

/**
 * The dynamic table (RFC 7541 2.3.2, 4.3, 4.4): a ring of entries, newest first in index order.
 * Example with 4 slots, after adding a, b, c: newest = 1, entries = 3, slots [_, c, b, a]; entry 0
 * (HPACK index 62) is c in slot 1, entry 2 (index 64) is a in slot (1 + 2) % 4 = 3.
 * Invariants: sizeBytes is the sum of the entries' sizes, sizeBytes <= limitBytes <= maxBytes,
 * and entries <= slots, since no entry is smaller than ENTRY_OVERHEAD_BYTES.
 */
class DynamicTable {
  private readonly names: string[];
  private readonly values: string[];
  private newest = 0;
  private entries = 0;
  private sizeBytes = 0;
  private limitBytes: number;

  constructor(private readonly maxBytes: number) {
    const slots = Math.floor(maxBytes / ENTRY_OVERHEAD_BYTES);
    this.names = new Array<string>(slots).fill('');
    this.values = new Array<string>(slots).fill('');
    this.limitBytes = maxBytes;
  }

  get count(): number {
    return this.entries;
  }

  name(entry: number): string {
    return this.names[(this.newest + entry) % this.names.length]!;
  }

  value(entry: number): string {
    return this.values[(this.newest + entry) % this.values.length]!;
  }

  /** An entry larger than the limit empties the table and is not added (4.4). */
  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD_BYTES;
    this.evictTo(this.limitBytes - size);
    if (size > this.limitBytes) return;
    this.newest = (this.newest + this.names.length - 1) % this.names.length;
    this.names[this.newest] = name;
    this.values[this.newest] = value;
    this.entries++;
    this.sizeBytes += size;
    assert(this.entries <= this.names.length && this.sizeBytes <= this.limitBytes);
  }

  /** A dynamic table size update (6.3): above what we advertised is the encoder's error. */
  resize(limitBytes: number): void {
    if (limitBytes > this.maxBytes) throw new HpackError('dynamic table size update above the limit');
    this.limitBytes = limitBytes;
    this.evictTo(limitBytes);
  }

  private evictTo(targetBytes: number): void {
    while (this.sizeBytes > targetBytes && this.entries > 0) {
      const oldest = (this.newest + --this.entries) % this.names.length;
      this.sizeBytes -= this.names[oldest]!.length + this.values[oldest]!.length;
      this.sizeBytes -= ENTRY_OVERHEAD_BYTES;
      this.names[oldest] = this.values[oldest] = ''; // let the strings go
    }
  }
}

const NO_BYTES: Buffer = Buffer.alloc(0);

export class HpackDecoder {
  private readonly table: DynamicTable;
  /** Huffman output before it becomes a string; grows to the longest string seen. */
  private scratch: Buffer = Buffer.allocUnsafe(256);
  // The block being decoded, and its running results; reset by every decode().
  private block = NO_BYTES;
  private pos = 0;
  private headers: [string, string][] = [];
  private listBytes = 0;
  private maxListBytes = Infinity;

  /** maxTableSize: the SETTINGS_HEADER_TABLE_SIZE we advertised (4096 by default). */
  constructor(maxTableSize = 4096) {
    assert(Number.isSafeInteger(maxTableSize) && maxTableSize >= 0, 'bad maxTableSize');
    this.table = new DynamicTable(maxTableSize);
  }

  /**
   * Decodes one complete header block (HEADERS and CONTINUATION payloads joined) into
   * [name, value] pairs in order, updating the dynamic table; throws HpackError on anything
   * malformed. A header list over maxHeaderListBytes (RFC 9113 6.5.2 size: name + value + 32 per
   * field) is still decoded to the end, so the table stays in step with the client's, but is
   * reported as tooLarge, with headers holding only the fields that fit.
   */
  decode(
    block: Uint8Array,
    maxHeaderListBytes = Infinity,
  ): { headers: [string, string][]; tooLarge: boolean } {
    this.block = Buffer.isBuffer(block)
      ? block
      : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    this.pos = 0;
    this.headers = [];
    this.listBytes = 0;
    this.maxListBytes = maxHeaderListBytes;
    try {
      this.readTableSizeUpdates();
      while (this.pos < this.block.length) this.readField();
      return { headers: this.headers, tooLarge: this.listBytes > maxHeaderListBytes };
    } finally {
      this.block = NO_BYTES; // the caller's buffer, not ours to keep
    }
  }

  /** Size updates may only open a block (4.2); readField rejects one anywhere else. */
  private readTableSizeUpdates(): void {
    while (this.pos < this.block.length && (this.block[this.pos]! & 0xe0) === 0x20) {
      this.table.resize(this.readInteger(5));
    }
  }

  /** One field representation (RFC 7541 6.1, 6.2), by the pattern of its first octet's high bits. */
  private readField(): void {
    const first = this.block[this.pos]!;
    if (first & 0x80) {
      const index = this.readInteger(7);
      this.checkIndex(index);
      this.emit(this.nameAt(index), this.valueAt(index));
    } else if (first & 0x40) {
      const name = this.readName(6);
      const value = this.readString();
      this.table.add(name, value);
      this.emit(name, value);
    } else if (first & 0x20) {
      throw new HpackError('dynamic table size update after a header field');
    } else {
      // 0000 without indexing or 0001 never indexed: the same to a decoder that forwards nothing.
      const name = this.readName(4);
      this.emit(name, this.readString());
    }
  }

  private emit(name: string, value: string): void {
    this.listBytes += name.length + value.length + ENTRY_OVERHEAD_BYTES;
    if (this.listBytes <= this.maxListBytes) this.headers.push([name, value]);
  }

  /** Index 0 means "a literal name follows"; 1..61 is static, above that dynamic (2.3.3). */
  private readName(prefixBits: number): string {
    const index = this.readInteger(prefixBits);
    if (index === 0) return this.readString();
    this.checkIndex(index);
    return this.nameAt(index);
  }

  /** nameAt and valueAt take an index checkIndex passed. */
  private nameAt(index: number): string {
    return index <= STATIC_TABLE.length
      ? STATIC_TABLE[index - 1]![0]
      : this.table.name(index - STATIC_TABLE.length - 1);
  }

  private valueAt(index: number): string {
    return index <= STATIC_TABLE.length
      ? STATIC_TABLE[index - 1]![1]
      : this.table.value(index - STATIC_TABLE.length - 1);
  }

  private checkIndex(index: number): void {
    if (index === 0) throw new HpackError('header index 0');
    if (index > STATIC_TABLE.length + this.table.count) {
      throw new HpackError(`header index ${index} past the table`);
    }
  }

  /** An integer with an N-bit prefix (5.1), starting at the prefix octet. */
  private readInteger(prefixBits: number): number {
    if (this.pos >= this.block.length) throw new HpackError('truncated header block');
    const mask = (1 << prefixBits) - 1;
    let value = this.block[this.pos++]! & mask;
    if (value < mask) return value;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (this.pos >= this.block.length) throw new HpackError('truncated integer');
      const octet = this.block[this.pos++]!;
      value += (octet & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) break;
      if ((octet & 0x80) === 0) return value;
    }
    throw new HpackError('integer overflow');
  }

  /** A string literal (5.2): H flag, 7-bit-prefix length, then raw or Huffman octets. */
  private readString(): string {
    const huffman = this.pos < this.block.length && (this.block[this.pos]! & 0x80) !== 0;
    const length = this.readInteger(7);
    const start = this.pos;
    if (length > this.block.length - start) throw new HpackError('truncated string');
    this.pos += length;
    if (!huffman) return this.block.toString('latin1', start, this.pos);
    // Each symbol takes at least 5 bits, so 8 input bits make at most 8/5 octets.
    const most = Math.ceil((length * 8) / 5);
    if (most > this.scratch.length) {
      this.scratch = Buffer.allocUnsafe(Math.max(most, this.scratch.length * 2));
    }
    return this.scratch.toString('latin1', 0, huffmanDecode(this.block, start, this.pos, this.scratch));
  }
}

/**
 * The bytes of one header field as "literal header field without indexing — new name"
 * (RFC 7541 6.2.2), name and value as raw (non-Huffman) strings. A server that never indexes
 * its own headers needs nothing more: its block is the concatenation of these.
 */
export function encodeLiteral(name: string, value: string): Buffer {
  const out = Buffer.allocUnsafe(1 + stringBytes(name) + stringBytes(value));
  out[0] = 0;
  const end = writeString(out, writeString(out, 1, name), value);
  assert(end === out.length);
  return out;
}

/** The one-byte "indexed header field" for a static-table entry, e.g. 8 for `:status: 200`. */
export function encodeIndexed(staticIndex: number): Buffer {
  const inTable = Number.isInteger(staticIndex) && staticIndex >= 1 && staticIndex <= STATIC_TABLE.length;
  assert(inTable, 'not a static index');
  return Buffer.from([0x80 | staticIndex]);
}

/** A string's Huffman octets (5.2), padded with the high bits of EOS. */
export function huffmanEncode(s: string): Buffer {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[latin1Code(s, i)]!;
  const out = Buffer.allocUnsafe(Math.ceil(bits / 8));
  // pending < 8 bits wait in acc between symbols; with a code of up to 30 bits acc stays below
  // 2^37, exact in a double, where 32-bit shifts would overflow.
  let acc = 0;
  let pending = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = latin1Code(s, i);
    acc = acc * 2 ** HUFFMAN_LENGTHS[sym]! + HUFFMAN_CODES[sym]!;
    pending += HUFFMAN_LENGTHS[sym]!;
    while (pending >= 8) {
      pending -= 8;
      const octet = Math.floor(acc / 2 ** pending);
      out[n++] = octet;
      acc -= octet * 2 ** pending;
    }
  }
  if (pending > 0) out[n++] = (acc << (8 - pending)) | (0xff >>> pending);
  assert(n === out.length);
  return out;
}

function latin1Code(s: string, i: number): number {
  const code = s.charCodeAt(i);
  assert(code <= 0xff, 'header strings are latin1');
  return code;
}

/** Octets of a raw string literal: its length with a 7-bit prefix, then the string. */
function stringBytes(s: string): number {
  if (s.length < 0x7f) return 1 + s.length;
  let bytes = 2;
  for (let rest = s.length - 0x7f; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes + s.length;
}

/** A raw string literal (5.2): H = 0 and the length with a 7-bit prefix (5.1), then the octets. */
function writeString(out: Buffer, pos: number, s: string): number {
  if (s.length < 0x7f) {
    out[pos++] = s.length;
  } else {
    out[pos++] = 0x7f;
    let rest = s.length - 0x7f;
    for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) out[pos++] = (rest % 0x80) | 0x80;
    out[pos++] = rest;
  }
  for (let i = 0; i < s.length; i++) out[pos++] = latin1Code(s, i);
  return pos;
}
