import { describe, expect, it } from 'vitest';
import { EventType, type Event } from '../../src/mvcc/index.js';
import { Prng } from '../../src/util/index.js';
import { inKeyRange, prefixOf, toKeyRange } from '../../src/watch/key-range.js';
import { Watcher } from '../../src/watch/watcher.js';
import { WatcherGroup } from '../../src/watch/watcher-group.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('watch key ranges', () => {
  it('recognizes exactly the prefix ranges', () => {
    expect(prefixOf(toKeyRange(b('a/'), b('a0')))).toBe('a/');
    expect(prefixOf(toKeyRange(b('a\xff'), b('b')))).toBe('a\xff');
    expect(prefixOf(toKeyRange(b('a\xff\xff'), b('b')))).toBe('a\xff\xff');
    expect(prefixOf(toKeyRange(b('a/'), b('a1')))).toBeUndefined();
    expect(prefixOf(toKeyRange(b('ab'), b('b')))).toBeUndefined();
    expect(prefixOf(toKeyRange(b('a'), undefined))).toBeUndefined();
    expect(prefixOf(toKeyRange(b('a'), b('\0')))).toBeUndefined();
  });
});

describe('watcher group', () => {
  it('matches the same watchers as checking every range, for keys, prefixes, ranges and from-key', () => {
    const prng = new Prng(5);
    const alphabet = ['a', 'b', '/', '\xff', '\0'];
    const word = (max: number): string => Array.from({ length: 1 + prng.int(max) }, () => prng.pick(alphabet)).join('');
    const group = new WatcherGroup();
    const watchers: Watcher[] = [];
    for (let i = 0; i < 300; i++) {
      const key = word(3);
      const kind = prng.int(4);
      let end: Buffer | undefined;
      if (kind === 1) {
        // a prefix range
        const k = Buffer.from(b(key));
        let j = k.length - 1;
        while (j >= 0 && k[j] === 0xff) j--;
        end = j < 0 ? b('\0') : Buffer.concat([k.subarray(0, j), Buffer.from([(k[j] as number) + 1])]);
      } else if (kind === 2) {
        end = b(word(3));
        if (Buffer.compare(b(key), end) >= 0) end = undefined;
      } else if (kind === 3) {
        end = b('\0');
      }
      const w = new Watcher(i, 0, toKeyRange(b(key), end), 1, false, false, false, () => true);
      watchers.push(w);
      group.add(w);
    }
    // Remove some, so emptied prefixes leave the index.
    for (const w of watchers.filter((_, i) => i % 7 === 0)) expect(group.delete(w)).toBe(true);
    const live = watchers.filter((_, i) => i % 7 !== 0);
    expect(group.size).toBe(live.length);
    for (let t = 0; t < 500; t++) {
      const ev: Event = { type: EventType.PUT, kv: { key: b(word(4)), createRevision: 2, modRevision: 2, version: 1, value: b('v'), lease: 0n } };
      const got = [...group.matching([ev]).keys()].map((w) => w.id).sort((x, y) => x - y);
      const want = live.filter((w) => inKeyRange(w.range, ev.kv.key)).map((w) => w.id);
      expect(got).toEqual(want);
    }
  });
});
