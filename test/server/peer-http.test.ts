import { describe, expect, it } from 'vitest';
import { parseRequestLine, requestLine } from '../../src/server/peer-http.js';
import type { PeerRequest } from '../../src/server/env.js';

describe('peer HTTP: the request line', () => {
  it('round-trips every request, with uint64 member ids and int64 lease ids', () => {
    const requests: PeerRequest[] = [
      { kind: 'members' },
      { kind: 'promote', id: 0xfedcba9876543210n },
      { kind: 'keepalive', ids: [1n, -5n, (1n << 62n) + 3n] },
      { kind: 'ttl', id: -(1n << 63n), keys: true },
      { kind: 'ttl', id: 42n, keys: false },
    ];
    for (const r of requests) {
      const line = requestLine(r);
      expect(parseRequestLine(line.method, line.path)).toEqual(r);
    }
  });

  it('knows nothing else', () => {
    expect(parseRequestLine('GET', '/members/promote/12')).toBeUndefined();
    expect(parseRequestLine('POST', '/members')).toBeUndefined();
    expect(parseRequestLine('PUT', '/test/clock')).toBeUndefined();
    expect(parseRequestLine('POST', '/leases/keepalive/zz')).toBeUndefined();
  });
});
