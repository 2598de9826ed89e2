import { describe, expect, it } from 'vitest';
import { encodeIndexed, encodeLiteral, HpackDecoder, HpackError, huffmanEncode } from '../../src/api/h2/hpack.js';
import { AssertionError, Prng } from '../../src/util/index.js';

type Fields = [string, string][];

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Indexed header fields for the given indexes (all below 127, so one octet each). */
const indexed = (...indexes: number[]): Buffer => Buffer.from(indexes.map((i) => 0x80 | i));

/** "Literal with incremental indexing, new name": encodeLiteral with the 01 pattern instead. */
function withIndexing(name: string, value: string): Buffer {
  const block = encodeLiteral(name, value);
  block[0] = 0x40;
  return block;
}

/** A string literal (RFC 7541 5.2) of latin1 s, Huffman-coded or raw. */
function stringLiteral(s: string, huffman: boolean): Buffer {
  const octets = huffman ? huffmanEncode(s) : Buffer.from(s, 'latin1');
  const length: number[] = [];
  if (octets.length < 127) length.push(octets.length);
  else {
    length.push(127);
    let rest = octets.length - 127;
    for (; rest >= 128; rest = Math.floor(rest / 128)) length.push((rest % 128) | 0x80);
    length.push(rest);
  }
  if (huffman) length[0]! |= 0x80;
  return Buffer.concat([Buffer.from(length), octets]);
}

/** "Literal without indexing, new name" with a Huffman-coded name and value. */
const huffmanLiteral = (name: string, value: string): Buffer =>
  Buffer.concat([Buffer.from([0]), stringLiteral(name, true), stringLiteral(value, true)]);

const decodeAll = (d: HpackDecoder, block: Uint8Array): Fields => d.decode(block).headers;

/** The dynamic table, newest first, read through indexed references (which leave it alone). */
function expectTable(d: HpackDecoder, entries: Fields): void {
  const dynamicIndexes = entries.map((_, i) => 62 + i);
  expect(decodeAll(d, indexed(...dynamicIndexes))).toEqual(entries);
  expect(() => d.decode(indexed(62 + entries.length))).toThrow(HpackError);
}

/**
 * The table's size in octets, shown by what fills it: after `replay`, one more entry of exactly
 * limit - size octets keeps every entry, and one octet more evicts the oldest.
 */
function expectTableSize(replay: () => HpackDecoder, limit: number, size: number, count: number): void {
  const fits = replay();
  fits.decode(withIndexing('x', 'v'.repeat(limit - size - 33)));
  expect(() => fits.decode(indexed(62 + count))).not.toThrow();
  const over = replay();
  over.decode(withIndexing('x', 'v'.repeat(limit - size - 32)));
  expect(() => over.decode(indexed(62 + count))).toThrow(HpackError);
}

interface Step {
  block: string;
  headers: Fields;
  table: Fields;
  size: number;
}

/** Decodes RFC 7541 Appendix C's blocks in order on one decoder, checking each step's results. */
function runSequence(maxTable: number, steps: Step[]): void {
  const d = new HpackDecoder(maxTable);
  steps.forEach((step, i) => {
    expect(decodeAll(d, hex(step.block))).toEqual(step.headers);
    expectTable(d, step.table);
    const replay = (): HpackDecoder => {
      const fresh = new HpackDecoder(maxTable);
      for (const earlier of steps.slice(0, i + 1)) fresh.decode(hex(earlier.block));
      return fresh;
    };
    expectTableSize(replay, maxTable, step.size, step.table.length);
  });
}

describe('RFC 7541 C.2: field representations', () => {
  it('C.2.1 literal with indexing adds to the table', () => {
    const d = new HpackDecoder();
    const block = hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572');
    expect(decodeAll(d, block)).toEqual([['custom-key', 'custom-header']]);
    expectTable(d, [['custom-key', 'custom-header']]);
    const replay = (): HpackDecoder => {
      const fresh = new HpackDecoder();
      fresh.decode(block);
      return fresh;
    };
    expectTableSize(replay, 4096, 55, 1);
  });

  it('C.2.2 literal without indexing leaves the table empty', () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([[':path', '/sample/path']]);
    expectTable(d, []);
  });

  it('C.2.3 literal never indexed leaves the table empty', () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual([['password', 'secret']]);
    expectTable(d, []);
  });

  it('C.2.4 indexed field from the static table', () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex('82'))).toEqual([[':method', 'GET']]);
    expectTable(d, []);
  });
});

const REQUESTS: Fields[] = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [
    [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'],
    [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
  ],
];
const REQUEST_TABLES: Fields[] = [
  [[':authority', 'www.example.com']],
  [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
];
const REQUEST_SIZES = [57, 110, 164];

const requestSteps = (blocks: string[]): Step[] =>
  blocks.map((block, i) => ({ block, headers: REQUESTS[i]!, table: REQUEST_TABLES[i]!, size: REQUEST_SIZES[i]! }));

describe('RFC 7541 C.3 and C.4: requests on one connection', () => {
  it('C.3 without Huffman', () => {
    runSequence(4096, requestSteps([
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ]));
  });

  it('C.4 with Huffman', () => {
    runSequence(4096, requestSteps([
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ]));
  });
});

const DATE_1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const DATE_2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const LOCATION = 'https://www.example.com';
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const RESPONSES: Fields[] = [
  [[':status', '302'], ['cache-control', 'private'], ['date', DATE_1], ['location', LOCATION]],
  [[':status', '307'], ['cache-control', 'private'], ['date', DATE_1], ['location', LOCATION]],
  [
    [':status', '200'], ['cache-control', 'private'], ['date', DATE_2], ['location', LOCATION],
    ['content-encoding', 'gzip'], ['set-cookie', COOKIE],
  ],
];
// With a 256-octet table, :status 307 evicts :status 302, and the third response evicts three.
const RESPONSE_TABLES: Fields[] = [
  [['location', LOCATION], ['date', DATE_1], ['cache-control', 'private'], [':status', '302']],
  [[':status', '307'], ['location', LOCATION], ['date', DATE_1], ['cache-control', 'private']],
  [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE_2]],
];
const RESPONSE_SIZES = [222, 222, 215];

const responseSteps = (blocks: string[]): Step[] =>
  blocks.map((block, i) => ({ block, headers: RESPONSES[i]!, table: RESPONSE_TABLES[i]!, size: RESPONSE_SIZES[i]! }));

describe('RFC 7541 C.5 and C.6: responses with evictions (table of 256)', () => {
  it('C.5 without Huffman', () => {
    runSequence(256, responseSteps([
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
       6c65 2e63 6f6d`,
      '4803 3330 37c1 c0bf',
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
       3d31`,
    ]));
  });

  it('C.6 with Huffman', () => {
    runSequence(256, responseSteps([
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      '4883 640e ffc1 c0bf',
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ]));
  });
});

describe('dynamic table size updates', () => {
  const first = hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d');

  it('at the start of a block, evicting down to the new size', () => {
    const d = new HpackDecoder();
    d.decode(first);
    expect(decodeAll(d, hex('20 82'))).toEqual([[':method', 'GET']]);
    expectTable(d, []);
  });

  it('several at the start, the last one standing', () => {
    const d = new HpackDecoder();
    d.decode(first);
    d.decode(hex('20 3fe11f')); // 0, then 4096 again
    d.decode(first);
    expectTable(d, [[':authority', 'www.example.com']]);
  });

  it('a shrunken table holds only what fits', () => {
    const d = new HpackDecoder();
    d.decode(hex('3f19')); // 31 + 25 = 56, one octet short of the :authority entry
    d.decode(first);
    expectTable(d, []);
  });

  it('above the advertised size is an error', () => {
    expect(() => new HpackDecoder().decode(hex('3fe21f'))).toThrow(/above the limit/); // 4097
    expect(() => new HpackDecoder(256).decode(hex('3fe201'))).toThrow(HpackError); // 257
    expect(() => new HpackDecoder(256).decode(hex('3fe101'))).not.toThrow(); // 256
  });

  it('after a field is an error', () => {
    expect(() => new HpackDecoder().decode(hex('82 20'))).toThrow(/after a header field/);
  });
});

describe('malformed blocks', () => {
  const bad = (block: string, message: RegExp): void => {
    expect(() => new HpackDecoder().decode(hex(block))).toThrow(HpackError);
    expect(() => new HpackDecoder().decode(hex(block))).toThrow(message);
  };

  it('index 0', () => bad('80', /index 0/));
  it('index past the static table on an empty dynamic table', () => {
    expect(decodeAll(new HpackDecoder(), indexed(61))).toEqual([['www-authenticate', '']]);
    bad('be', /past the table/);
    bad('7e 01 61', /past the table/); // an indexed name, 62
  });
  it('truncated integer', () => {
    bad('ff', /truncated integer/);
    bad('ff 80', /truncated integer/);
  });
  it('integer overflow', () => {
    bad('ff ffffffff0f', /overflow/);
    bad('ff 8080808080 00', /overflow/); // six continuation octets
  });
  it('truncated string', () => {
    bad('40', /truncated/); // the name's length is missing
    bad('40 05 61', /truncated string/);
    bad('00 01 61', /truncated/); // no value
    bad('00 01 61 85 ffff', /truncated string/);
  });
  it('Huffman EOS inside the string', () => {
    bad('00 01 61 84 ffffffff', /EOS/); // 30 ones end in a low nibble
    bad('00 01 61 85 1fffffffff', /EOS/); // after 'a' (00011), in a high nibble
  });
  it('Huffman padding that is not all ones', () => bad('00 01 61 81 18', /padding/)); // 'a' 00011 000
  it('Huffman padding longer than 7 bits', () => {
    bad('00 01 61 83 6402ff', /padding/); // '302' fills two octets, then 8 ones
    bad('00 01 61 82 1fff', /padding/); // 'a', then 11 ones
  });
  it('an empty Huffman string is fine', () => {
    expect(decodeAll(new HpackDecoder(), hex('00 01 61 80'))).toEqual([['a', '']]);
  });

  it('random blocks either decode or throw HpackError', () => {
    const prng = new Prng(7541);
    for (let i = 0; i < 3000; i++) {
      const block = Buffer.from(Array.from({ length: prng.int(40) }, () => prng.int(256)));
      try {
        new HpackDecoder(256).decode(block);
      } catch (e) {
        expect(e, block.toString('hex')).toBeInstanceOf(HpackError);
      }
    }
  });
});

describe('header list size', () => {
  // Each field is 1 + 1 + 32 = 34 octets.
  const block = Buffer.concat([withIndexing('a', 'b'), withIndexing('c', 'd'), withIndexing('e', 'f')]);

  it('at the limit is not too large', () => {
    expect(new HpackDecoder().decode(block, 102)).toEqual({
      headers: [['a', 'b'], ['c', 'd'], ['e', 'f']],
      tooLarge: false,
    });
  });

  it('over the limit is flagged, with the fields that fit, and the table kept in step', () => {
    const d = new HpackDecoder();
    expect(d.decode(block, 101)).toEqual({ headers: [['a', 'b'], ['c', 'd']], tooLarge: true });
    expectTable(d, [['e', 'f'], ['c', 'd'], ['a', 'b']]);
  });
});

describe('encoding', () => {
  it('encodeIndexed is one octet that decodes to the static entry', () => {
    expect(encodeIndexed(8)).toEqual(hex('88'));
    expect(decodeAll(new HpackDecoder(), encodeIndexed(8))).toEqual([[':status', '200']]);
    expect(() => encodeIndexed(0)).toThrow(AssertionError);
    expect(() => encodeIndexed(62)).toThrow(AssertionError);
  });

  it('encodeLiteral matches RFC 7541 6.2.2 and round-trips without touching the table', () => {
    expect(encodeLiteral('a', 'bc')).toEqual(hex('00 0161 026263'));
    const every = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const fields: Fields = [
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-status', '0'],
      ['empty', ''],
      ['x-126', 'v'.repeat(126)], // the last one-octet length
      ['x-127', 'v'.repeat(127)], // the first two-octet length
      ['x-300', 'v'.repeat(300)],
      ['x-20000', 'v'.repeat(20000)], // a three-octet length
      ['grpc-status-details-bin', every],
    ];
    const block = Buffer.concat([encodeIndexed(8), ...fields.slice(1).map(([n, v]) => encodeLiteral(n, v))]);
    const d = new HpackDecoder();
    expect(decodeAll(d, block)).toEqual(fields);
    expectTable(d, []);
  });

  it('rejects strings that are not latin1', () => {
    expect(() => encodeLiteral('x', '\u20ac')).toThrow(AssertionError);
  });
});

describe('Huffman', () => {
  it('encodes the RFC 7541 C.4 and C.6 strings', () => {
    const cases: [string, string][] = [
      ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
      ['no-cache', 'a8eb 1064 9cbf'],
      ['custom-key', '25a8 49e9 5ba9 7d7f'],
      ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
      ['302', '6402'],
      ['private', 'aec3 771a 4b'],
      [DATE_1, 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
      [LOCATION, '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
      ['gzip', '9bd9 ab'],
      [COOKIE, `94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587
                3160 65c0 03ed 4ee5 b106 3d50 07`],
    ];
    for (const [s, encoded] of cases) expect(huffmanEncode(s).toString('hex'), s).toBe(hex(encoded).toString('hex'));
  });

  it('uses the RFC 7541 Appendix B codes for the rare symbols', () => {
    expect(huffmanEncode('\x00')).toEqual(hex('ffc7')); // 1ff8 [13], 3 bits of padding
    expect(huffmanEncode('\n')).toEqual(hex('fffffff3')); // 3ffffffc [30]
    expect(huffmanEncode('\xff')).toEqual(hex('fffffbbf')); // 3ffffee [26]
    expect(huffmanEncode('\x80')).toEqual(hex('fffe6f')); // fffe6 [20]
  });

  it('round-trips every octet, alone and together', () => {
    const d = new HpackDecoder();
    for (let octet = 0; octet < 256; octet++) {
      const s = String.fromCharCode(octet);
      expect(decodeAll(d, huffmanLiteral(s, s))).toEqual([[s, s]]);
    }
    const every = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    expect(decodeAll(d, huffmanLiteral('all', every))).toEqual([['all', every]]);
  });

  it('round-trips random strings', () => {
    const prng = new Prng(5);
    for (let i = 0; i < 500; i++) {
      const s = String.fromCharCode(...Array.from({ length: prng.int(60) }, () => prng.int(256)));
      expect(decodeAll(new HpackDecoder(), huffmanLiteral('k', s))).toEqual([['k', s]]);
    }
  });
});
