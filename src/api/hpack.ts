/**
 * Just enough HPACK (RFC 7541) to repair one header of one header block: the `:authority` of a
 * request, which node's HTTP/2 (nghttp2) checks strictly and etcd's Go server does not.
 *
 * Why: etcdctl 3.4 dials each endpoint of `endpoint status`, `endpoint hashkv`, `defrag`,
 * `move-leader` and `snapshot save` as `passthrough:///http://host:port`, so its requests carry
 * `:authority: http://host:port`. nghttp2 refuses the '/' and resets the stream (PROTOCOL_ERROR)
 * before grpc-js sees the call. repairAuthority rewrites that value to `host:port` in the first
 * header block of the connection (h2-intake.ts), before nghttp2 reads it.
 *
 * The rewrite keeps the dynamic tables in step: the repaired value is never longer than the
 * original, so the decoder's table (nghttp2) holds entries no larger than the encoder's (the
 * client). Its evictions then never come before the client's, and every index the client sends
 * names the same entry on both sides; later requests reference the entry by index and get the
 * repaired value.
 */

/** The static table index of `:authority` (RFC 7541 Appendix A). */
const STATIC_AUTHORITY = 1;

/**
 * The Huffman codes of the printable ASCII characters (RFC 7541 Appendix B), as
 * [character, code, bit length]. An authority is printable ASCII; a value using any other
 * character cannot be decoded here and is left alone.
 */
const HUFFMAN_PRINTABLE: readonly (readonly [string, number, number])[] = [
  [' ', 0x14, 6], ['!', 0x3f8, 10], ['"', 0x3f9, 10], ['#', 0xffa, 12], ['$', 0x1ff9, 13], ['%', 0x15, 6],
  ['&', 0xf8, 8], ["'", 0x7fa, 11], ['(', 0x3fa, 10], [')', 0x3fb, 10], ['*', 0xf9, 8], ['+', 0x7fb, 11],
  [',', 0xfa, 8], ['-', 0x16, 6], ['.', 0x17, 6], ['/', 0x18, 6], ['0', 0x0, 5], ['1', 0x1, 5],
  ['2', 0x2, 5], ['3', 0x19, 6], ['4', 0x1a, 6], ['5', 0x1b, 6], ['6', 0x1c, 6], ['7', 0x1d, 6],
  ['8', 0x1e, 6], ['9', 0x1f, 6], [':', 0x5c, 7], [';', 0xfb, 8], ['<', 0x7ffc, 15], ['=', 0x20, 6],
  ['>', 0xffb, 12], ['?', 0x3fc, 10], ['@', 0x1ffa, 13], ['A', 0x21, 6], ['B', 0x5d, 7], ['C', 0x5e, 7],
  ['D', 0x5f, 7], ['E', 0x60, 7], ['F', 0x61, 7], ['G', 0x62, 7], ['H', 0x63, 7], ['I', 0x64, 7],
  ['J', 0x65, 7], ['K', 0x66, 7], ['L', 0x67, 7], ['M', 0x68, 7], ['N', 0x69, 7], ['O', 0x6a, 7],
  ['P', 0x6b, 7], ['Q', 0x6c, 7], ['R', 0x6d, 7], ['S', 0x6e, 7], ['T', 0x6f, 7], ['U', 0x70, 7],
  ['V', 0x71, 7], ['W', 0x72, 7], ['X', 0xfc, 8], ['Y', 0x73, 7], ['Z', 0xfd, 8], ['[', 0x1ffb, 13],
  ['\\', 0x7fff0, 19], [']', 0x1ffc, 13], ['^', 0x3ffc, 14], ['_', 0x22, 6], ['`', 0x7ffd, 15], ['a', 0x3, 5],
  ['b', 0x23, 6], ['c', 0x4, 5], ['d', 0x24, 6], ['e', 0x5, 5], ['f', 0x25, 6], ['g', 0x26, 6],
  ['h', 0x27, 6], ['i', 0x6, 5], ['j', 0x74, 7], ['k', 0x75, 7], ['l', 0x28, 6], ['m', 0x29, 6],
  ['n', 0x2a, 6], ['o', 0x7, 5], ['p', 0x2b, 6], ['q', 0x76, 7], ['r', 0x2c, 6], ['s', 0x8, 5],
  ['t', 0x9, 5], ['u', 0x2d, 6], ['v', 0x77, 7], ['w', 0x78, 7], ['x', 0x79, 7], ['y', 0x7a, 7],
  ['z', 0x7b, 7], ['{', 0x7ffe, 15], ['|', 0x7fc, 11], ['}', 0x3ffd, 14], ['~', 0x1ffd, 13],
];

const MAX_PRINTABLE_CODE_BITS = 19;

/** `${bits}:${code}` → character. */
const HUFFMAN_DECODE = new Map(HUFFMAN_PRINTABLE.map(([ch, code, bits]) => [`${bits}:${code}`, ch]));

/**
 * Decodes a Huffman-coded string of printable ASCII; undefined when it holds anything else or
 * its padding is not the EOS prefix (at most 7 one bits).
 */
export function huffmanDecodePrintable(bytes: Uint8Array): string | undefined {
  let out = '';
  let code = 0;
  let bits = 0;
  for (const byte of bytes) {
    for (let i = 7; i >= 0; i--) {
      code = (code << 1) | ((byte >> i) & 1);
      bits++;
      if (bits < 5) continue;
      const ch = HUFFMAN_DECODE.get(`${bits}:${code}`);
      if (ch !== undefined) {
        out += ch;
        code = 0;
        bits = 0;
      } else if (bits >= MAX_PRINTABLE_CODE_BITS) {
        return undefined;
      }
    }
  }
  const padding = bits === 0 || (bits <= 7 && code === (1 << bits) - 1);
  return padding ? out : undefined;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 5.1) at `offset`; undefined if truncated. */
export function decodeInteger(block: Uint8Array, offset: number, prefixBits: number): { value: number; next: number } | undefined {
  const first = block[offset];
  if (first === undefined) return undefined;
  const max = (1 << prefixBits) - 1;
  let value = first & max;
  let next = offset + 1;
  if (value < max) return { value, next };
  // Bounded: more than 4 continuation bytes would exceed any size a header block can have.
  for (let shift = 0; shift <= 28; shift += 7) {
    const b = block[next++];
    if (b === undefined) return undefined;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return { value, next };
  }
  return undefined;
}

export function encodeInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const bytes = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

interface StringLiteral {
  /** Offset of the string's first byte (its length prefix). */
  readonly start: number;
  readonly next: number;
  readonly huffman: boolean;
  readonly bytes: Uint8Array;
}

function decodeStringLiteral(block: Uint8Array, offset: number): StringLiteral | undefined {
  const first = block[offset];
  if (first === undefined) return undefined;
  const length = decodeInteger(block, offset, 7);
  if (length === undefined || length.next + length.value > block.length) return undefined;
  return {
    start: offset,
    next: length.next + length.value,
    huffman: (first & 0x80) !== 0,
    bytes: block.subarray(length.next, length.next + length.value),
  };
}

/** nghttp2's check of an :authority value (its VALID_AUTHORITY_CHARS). */
export function isValidAuthority(value: string): boolean {
  return /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/.test(value);
}

/** `scheme://host:port/path` → `host:port`; undefined when that is not a valid authority. */
function authorityOfUrl(value: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(value);
  const host = m?.[1];
  return host !== undefined && host !== '' && isValidAuthority(host) ? host : undefined;
}

/**
 * The header block with the first `:authority` literal repaired when nghttp2 would refuse it;
 * the block itself (same object) when nothing needs or can be changed. Only literals naming
 * `:authority` by its static index or by name are recognized (what clients send).
 */
export function repairAuthority(block: Buffer): Buffer {
  let offset = 0;
  // Bounded by the block: every representation consumes at least one byte.
  while (offset < block.length) {
    const first = block[offset] as number;
    if ((first & 0x80) !== 0) {
      // Indexed header field.
      const index = decodeInteger(block, offset, 7);
      if (index === undefined) return block;
      offset = index.next;
      continue;
    }
    if ((first & 0xe0) === 0x20) {
      // Dynamic table size update.
      const size = decodeInteger(block, offset, 5);
      if (size === undefined) return block;
      offset = size.next;
      continue;
    }
    // A literal: with incremental indexing (01, 6-bit index), or without / never indexed
    // (0000 / 0001, 4-bit index). Index 0: the name follows as a string.
    const prefixBits = (first & 0x40) !== 0 ? 6 : 4;
    const nameIndex = decodeInteger(block, offset, prefixBits);
    if (nameIndex === undefined) return block;
    let isAuthority = nameIndex.value === STATIC_AUTHORITY;
    let valueOffset = nameIndex.next;
    if (nameIndex.value === 0) {
      const name = decodeStringLiteral(block, nameIndex.next);
      if (name === undefined) return block;
      const text = name.huffman ? huffmanDecodePrintable(name.bytes) : Buffer.from(name.bytes).toString('latin1');
      isAuthority = text === ':authority';
      valueOffset = name.next;
    }
    const value = decodeStringLiteral(block, valueOffset);
    if (value === undefined) return block;
    if (isAuthority) {
      const text = value.huffman ? huffmanDecodePrintable(value.bytes) : Buffer.from(value.bytes).toString('latin1');
      if (text === undefined || isValidAuthority(text)) return block;
      const repaired = authorityOfUrl(text);
      if (repaired === undefined || repaired.length > text.length) return block;
      const literal = Buffer.concat([encodeInteger(repaired.length, 7, 0x00), Buffer.from(repaired, 'latin1')]);
      return Buffer.concat([block.subarray(0, value.start), literal, block.subarray(value.next)]);
    }
    offset = value.next;
  }
  return block;
}
