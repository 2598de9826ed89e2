import { describe, expect, it } from 'vitest';
import { watchResultOut } from '../../src/api/convert.js';
import { apiProtos, MESSAGE_OPTIONS } from '../../src/api/proto.js';
import { encodeWatchResponse } from '../../src/api/watch-encode.js';
import type { Event, WatchResult } from '../../src/server/service.js';

const header = { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: 2 ** 40 + 3, raftTerm: 7 };
const kv = (key: string, value: string, lease = 0n): Event['kv'] => ({ key: Buffer.from(key), value: Buffer.from(value), createRevision: 5, modRevision: 2 ** 33, version: 300, lease });

const cases: WatchResult[] = [
  { header, watchId: 0, created: true, events: [] },
  { header, watchId: -1, created: true, canceled: true, cancelReason: 'mvcc: watcher range is empty', events: [] },
  { header: { ...header, revision: 0 }, watchId: 12, canceled: true, compactRevision: 4, events: [] },
  { header, watchId: -1, events: [] },
  {
    header,
    watchId: 3,
    fragment: true,
    events: [
      { type: 0, kv: kv('a', 'x'.repeat(200), 7n) },
      { type: 1, kv: { key: Buffer.from('b'), value: Buffer.alloc(0), createRevision: 0, modRevision: 9, version: 0, lease: 0n }, prevKv: kv('b', 'old', -5n) },
      { type: 0, kv: kv('', '', 2n ** 62n) },
    ],
  },
];

describe('hand-encoded WatchResponse', () => {
  it('decodes to the same message as the protobufjs path, for every field', () => {
    const type = apiProtos().root.lookupType('etcdserverpb.WatchResponse');
    for (const r of cases) {
      const fast = type.toObject(type.decode(encodeWatchResponse(r)), MESSAGE_OPTIONS);
      const slow = type.toObject(type.decode(type.encode(type.fromObject(watchResultOut(r))).finish()), MESSAGE_OPTIONS);
      expect(fast).toEqual(slow);
    }
  });
});
