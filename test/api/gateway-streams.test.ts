/**
 * The JSON gateway's Lease, Watch, Lock and Election paths, in the shapes a real etcd 3.4
 * answers (taken from curl against etcd 3.4.23): unary JSON bodies, streams as one
 * `{"result":...}` per line, stream errors as `{"error":{"grpc_code":...}}`, and the gateway's
 * reader of concatenated JSON request messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonSequenceSplitter } from '../../src/api/gateway-stream.js';
import { CLUSTER_ID, MEMBER_ID } from './fake-member.js';
import { startFake, type FakeServer } from './helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const HEADER = (revision: number): string =>
  `"header":{"cluster_id":"${CLUSTER_ID}","member_id":"${MEMBER_ID}","revision":"${revision}","raft_term":"2"}`;

interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
}

describe('api: the JSON gateway for Lease, Watch, Lock and Election', () => {
  let fake: FakeServer;
  const rev = (): number => fake.member.store.currentRev;

  const post = async (path: string, body: unknown): Promise<Reply> => {
    const res = await fetch(`${fake.endpoint}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
  };

  /** Reads a stream until it ends, or until `lines` full lines arrived (then hangs up). */
  const stream = async (path: string, body: string, lines?: number): Promise<Reply & { lines: string[]; metadata: string | null }> => {
    const abort = new AbortController();
    const res = await fetch(`${fake.endpoint}${path}`, { method: 'POST', body, signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      if (lines !== undefined && text.split('\n').length > lines) break;
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    abort.abort();
    const full = text.split('\n').slice(0, lines ?? Infinity);
    return { status: res.status, contentType: res.headers.get('content-type'), metadata: res.headers.get('grpc-metadata-content-type'), text, lines: full };
  };

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('grants, reads, lists and revokes leases under /v3/lease and /v3/kv/lease', async () => {
    const grant = await post('/v3/lease/grant', { TTL: 30, ID: 1000 });
    expect(grant.status).toBe(200);
    expect(grant.text).toBe(`{${HEADER(rev())},"ID":"1000","TTL":"30"}`);
    const taken = await post('/v3/lease/grant', { TTL: 30, ID: '1000' });
    expect(taken.status).toBe(412);
    expect(taken.text).toBe('{"error":"etcdserver: lease already exists","message":"etcdserver: lease already exists","code":9}');
    const ttl = JSON.parse((await post('/v3/lease/timetolive', { ID: 1000, keys: true })).text) as Record<string, unknown>;
    expect(ttl).toMatchObject({ ID: '1000', grantedTTL: '30' });
    expect(Number(ttl['TTL'])).toBeGreaterThanOrEqual(29);
    expect((await post('/v3/kv/lease/timetolive', { ID: 1001 })).text).toBe(`{${HEADER(rev())},"ID":"1001","TTL":"-1"}`);
    expect((await post('/v3/lease/leases', {})).text).toBe(`{${HEADER(rev())},"leases":[{"ID":"1000"}]}`);
    expect((await post('/v3/kv/lease/leases', '')).text).toBe(`{${HEADER(rev())},"leases":[{"ID":"1000"}]}`);
    const missing = await post('/v3/kv/lease/revoke', { ID: 1001 });
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}');
    expect((await post('/v3beta/lease/revoke', { ID: 1000 })).text).toBe(`{${HEADER(rev())}}`);
  });

  it('streams keep-alive answers, one line each, and ends with the body', async () => {
    await post('/v3/lease/grant', { TTL: 20, ID: 2000 });
    const r = await stream('/v3/lease/keepalive', '{"ID":2000} {"ID":"5"}\n');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/json');
    expect(r.metadata).toBe('application/grpc');
    expect(r.text).toBe(`{"result":{${HEADER(rev())},"ID":"2000","TTL":"20"}}\n{"result":{${HEADER(rev())},"ID":"5"}}\n`);
    const empty = await stream('/v3/lease/keepalive', '');
    expect([empty.status, empty.text]).toEqual([200, '']);
  });

  it('fails a stream whose first message is not JSON, and ends one with an error chunk', async () => {
    const bad = await post('/v3/lease/keepalive', '{"ID":x}');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.text)).toMatchObject({ code: 2 });
    fake.member.leader = 0n;
    try {
      const r = await stream('/v3/lease/keepalive', '{"ID":2000}');
      expect(r.status).toBe(503);
      expect(r.text).toBe('{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}');
    } finally {
      fake.member.leader = MEMBER_ID;
    }
  });

  it('streams watch responses: replay with prev_kv, progress, cancel, refusals', async () => {
    const start = rev() + 1;
    await post('/v3/kv/put', { key: b64('foo'), value: b64('bar') });
    await post('/v3/kv/put', { key: b64('foo'), value: b64('baz') });
    await post('/v3/kv/deleterange', { key: b64('foo') });
    const now = rev();
    const body = `{"create_request":{"key":"Zm9v","start_revision":"${start}","prev_kv":true}}\n`;
    const r = await stream('/v3/watch', body, 2);
    expect(r.status).toBe(200);
    expect(r.lines).toEqual([
      `{"result":{${HEADER(now)},"created":true}}`,
      `{"result":{${HEADER(now)},"events":[` +
        `{"kv":{"key":"Zm9v","create_revision":"${start}","mod_revision":"${start}","version":"1","value":"YmFy"}},` +
        `{"kv":{"key":"Zm9v","create_revision":"${start}","mod_revision":"${start + 1}","version":"2","value":"YmF6"},` +
        `"prev_kv":{"key":"Zm9v","create_revision":"${start}","mod_revision":"${start}","version":"1","value":"YmFy"}},` +
        `{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"${start + 2}"},` +
        `"prev_kv":{"key":"Zm9v","create_revision":"${start}","mod_revision":"${start + 1}","version":"2","value":"YmF6"}}]}}`,
    ]);

    const control = await stream(
      '/v3/watch',
      '{"create_request":{"key":"Zm9v","watch_id":7}} {"progress_request":{}}\n{"cancel_request":{"watch_id":"7"}}\n' +
        '{"create_request":{"key":"Zm9v","range_end":"Zm9v"}}',
      4,
    );
    expect(control.lines).toEqual([
      `{"result":{${HEADER(now)},"watch_id":"7","created":true}}`,
      `{"result":{${HEADER(now)},"watch_id":"-1"}}`,
      `{"result":{${HEADER(now)},"watch_id":"7","canceled":true}}`,
      `{"result":{${HEADER(now)},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}}`,
    ]);
  });

  it('keeps a watch open after the body ends and delivers later events', async () => {
    const pending = stream('/v3/watch', '{"create_request":{"key":"bGF0ZQ=="}}', 2);
    await new Promise((r) => setTimeout(r, 200));
    await post('/v3/kv/put', { key: b64('late'), value: b64('v') });
    const r = await pending;
    expect(r.lines[1]).toBe(`{"result":{${HEADER(rev())},"events":[{"kv":{"key":"bGF0ZQ==","create_revision":"${rev()}","mod_revision":"${rev()}","version":"1","value":"dg=="}}]}}`);
    const bad = await post('/v3/watch', '[1,2]');
    expect(bad.status).toBe(500);
  });

  it('locks and unlocks in etcd JSON, and reports lock errors with code 2', async () => {
    const lease = JSON.parse((await post('/v3/lease/grant', { TTL: 60 })).text) as { ID: string };
    const hex = BigInt(lease.ID).toString(16);
    const locked = await post('/v3/lock/lock', { name: b64('mylock'), lease: lease.ID });
    expect(locked.text).toBe(`{${HEADER(rev())},"key":"${b64(`mylock/${hex}`)}"}`);
    const missing = await post('/v3/lock/lock', { name: b64('mylock'), lease: '12345' });
    expect(missing.status).toBe(500);
    expect(missing.text).toBe('{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":2}');
    const unlocked = await post('/v3/lock/unlock', { key: b64(`mylock/${hex}`) });
    expect(unlocked.text).toBe(`{${HEADER(rev())}}`);
    const empty = await post('/v3/lock/unlock', {});
    expect(empty.text).toBe('{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":2}');
  });

  it('campaigns, proclaims, observes and resigns in etcd JSON', async () => {
    const none = await post('/v3/election/leader', { name: b64('el') });
    expect([none.status, none.text]).toEqual([500, '{"error":"election: no leader","message":"election: no leader","code":2}']);
    const observing = stream('/v3/election/observe', JSON.stringify({ name: b64('el') }), 2);
    const lease = JSON.parse((await post('/v3/lease/grant', { TTL: 60 })).text) as { ID: string };
    const key = b64(`el/${BigInt(lease.ID).toString(16)}`);
    const campaign = await post('/v3/election/campaign', { name: b64('el'), lease: lease.ID, value: b64('v1') });
    const rev1 = rev();
    expect(campaign.text).toBe(`{${HEADER(rev1)},"leader":{"name":"ZWw=","key":"${key}","rev":"${rev1}","lease":"${lease.ID}"}}`);
    const leaderKey = (JSON.parse(campaign.text) as { leader: unknown }).leader;
    expect((await post('/v3/election/proclaim', { leader: leaderKey, value: b64('v2') })).text).toBe(`{${HEADER(rev1 + 1)}}`);
    const leader = await post('/v3/election/leader', { name: b64('el') });
    expect(leader.text).toBe(
      `{${HEADER(rev1 + 1)},"kv":{"key":"${key}","create_revision":"${rev1}","mod_revision":"${rev1 + 1}","version":"2","value":"djI=","lease":"${lease.ID}"}}`,
    );
    const observed = await observing;
    expect(observed.lines).toEqual([
      `{"result":{${HEADER(rev1)},"kv":{"key":"${key}","create_revision":"${rev1}","mod_revision":"${rev1}","version":"1","value":"djE=","lease":"${lease.ID}"}}}`,
      `{"result":{${HEADER(rev1 + 1)},"kv":{"key":"${key}","create_revision":"${rev1}","mod_revision":"${rev1 + 1}","version":"2","value":"djI=","lease":"${lease.ID}"}}}`,
    ]);
    const missing = await post('/v3/election/proclaim', { value: b64('x') });
    expect(missing.text).toBe('{"error":"\\"leader\\" field must be provided","message":"\\"leader\\" field must be provided","code":2}');
    expect((await post('/v3/election/resign', { leader: leaderKey })).text).toBe(`{${HEADER(rev1 + 2)}}`);
    const stale = await post('/v3beta/election/proclaim', { leader: leaderKey, value: b64('x') });
    expect(stale.text).toBe('{"error":"election: not leader","message":"election: not leader","code":2}');
  });
});

describe('api: the gateway reader of concatenated JSON messages', () => {
  const split = (chunks: string[], max = 1000): string[] => {
    const s = new JsonSequenceSplitter(max);
    return [...chunks.flatMap((c) => s.push(Buffer.from(c))), ...s.end()];
  };

  it('splits objects at their closing brace, across chunks, ignoring braces in strings', () => {
    expect(split(['{"a":"}"} {"b"', ':1}\n', '{"c":"\\"}"}'])).toEqual(['{"a":"}"}', '{"b":1}', '{"c":"\\"}"}']);
    expect(split(['{"a":{"b":[1,{"c":2}]}}{"d":3}'])).toEqual(['{"a":{"b":[1,{"c":2}]}}', '{"d":3}']);
  });

  it('keeps multi-byte characters split between chunks whole', () => {
    const bytes = Buffer.from('{"k":"é€"}');
    const s = new JsonSequenceSplitter(100);
    expect([...s.push(bytes.subarray(0, 7)), ...s.push(bytes.subarray(7)), ...s.end()]).toEqual(['{"k":"é€"}']);
  });

  it('hands over scalars, lone brackets and an unfinished tail for the decoder to refuse', () => {
    expect(split(['12 true"s"]{"x":1} {"y"'])).toEqual(['12', 'true', '"s"', ']', '{"x":1}', '{"y"']);
  });

  it('refuses a message over the limit', () => {
    const s = new JsonSequenceSplitter(8);
    expect(() => s.push(Buffer.from('{"key":"0123456789"'))).toThrow('request message larger than max');
  });
});
