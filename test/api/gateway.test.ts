/**
 * The HTTP/JSON gateway on the client port, driven with fetch(): etcd's grpc-gateway paths and
 * JSON (names as in the .proto, bytes base64, int64 as strings, defaults left out), its error
 * bodies, /health and /version, and the same port still serving gRPC.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonName, jsonToMessage, messageToJson, quoteLongIntegers } from '../../src/api/json.js';
import { apiProtos } from '../../src/api/proto.js';
import { CLUSTER_ID, MEMBER_ID } from './fake-member.js';
import { startFake, type FakeServer } from './helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const HEADER = (revision: number): string =>
  `"header":{"cluster_id":"${CLUSTER_ID}","member_id":"${MEMBER_ID}","revision":"${revision}","raft_term":"2"}`;

describe('api: the JSON gateway', () => {
  let fake: FakeServer;
  const post = async (path: string, body: unknown): Promise<{ status: number; text: string; contentType: string | null }> => {
    const res = await fetch(`${fake.endpoint}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
  };

  beforeAll(async () => {
    fake = await startFake({ maxRequestBytes: 4096 });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('puts, then ranges, in etcd gateway JSON', async () => {
    const put = await post('/v3/kv/put', { key: b64('foo'), value: b64('bar') });
    expect(put.status).toBe(200);
    expect(put.contentType).toBe('application/json');
    expect(put.text).toBe(`{${HEADER(2)}}`);
    const range = await post('/v3/kv/range', { key: b64('foo') });
    expect(range.text).toBe(
      `{${HEADER(2)},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`,
    );
    const missing = await post('/v3/kv/range', { key: b64('nothing') });
    expect(missing.text).toBe(`{${HEADER(2)}}`);
    const prev = await post('/v3/kv/put', { key: b64('foo'), value: b64('baz'), prev_kv: true });
    expect(prev.text).toBe(`{${HEADER(3)},"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`);
  });

  it('serves /v3beta too, and takes lowerCamel names, enum names and int64 numbers', async () => {
    await post('/v3/kv/put', { key: b64('fob'), value: b64('a') });
    const beta = await post('/v3beta/kv/range', { key: b64('fo'), rangeEnd: b64('fp'), countOnly: true });
    expect(beta.text).toBe(`{${HEADER(4)},"count":"2"}`);
    const sorted = await post('/v3/kv/range', { key: b64('fo'), range_end: b64('fp'), sort_order: 'DESCEND', sort_target: 'MOD', keys_only: true, limit: 1 });
    expect(sorted.text).toBe(`{${HEADER(4)},"kvs":[{"key":"Zm9i","create_revision":"4","mod_revision":"4","version":"1"}],"more":true,"count":"2"}`);
    const all = await post('/v3/kv/range', { key: 'AA==', range_end: 'AA==', revision: '3' });
    expect(JSON.parse(all.text)).toMatchObject({ count: '1', kvs: [{ key: 'Zm9v', version: '2' }] });
  });

  it('runs txns, with the headers etcd puts in nested responses', async () => {
    const txn = await post('/v3/kv/txn', {
      compare: [{ key: b64('foo'), result: 'EQUAL', target: 'VALUE', value: b64('baz') }],
      success: [
        { request_range: { key: b64('foo') } },
        { request_put: { key: b64('k3'), value: b64('v3') } },
        { request_txn: { success: [{ request_delete_range: { key: b64('fob') } }] } },
      ],
    });
    expect(txn.status).toBe(200);
    expect(txn.text).toBe(
      `{${HEADER(5)},"succeeded":true,"responses":[` +
        `{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}},` +
        `{"response_put":{"header":{"revision":"5"}}},` +
        `{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_delete_range":{"header":{"revision":"5"},"deleted":"1"}}]}}]}`,
    );
    const failed = await post('/v3/kv/txn', { compare: [{ key: b64('foo'), target: 'VERSION', result: 'GREATER', version: '100' }] });
    expect(failed.text).toBe(`{${HEADER(5)}}`);
  });

  it('deletes and compacts, and answers a compacted read with the gateway error body', async () => {
    const del = await post('/v3/kv/deleterange', { key: b64('k3'), prev_kv: true });
    expect(del.text).toBe(`{${HEADER(6)},"deleted":"1","prev_kvs":[{"key":"azM=","create_revision":"5","mod_revision":"5","version":"1","value":"djM="}]}`);
    const compact = await post('/v3/kv/compaction', { revision: '5', physical: true });
    expect(compact.text).toBe(`{${HEADER(6)}}`);
    const compacted = await post('/v3/kv/range', { key: b64('foo'), revision: 2 });
    expect(compacted.status).toBe(400);
    expect(compacted.contentType).toBe('application/json');
    expect(compacted.text).toBe(
      '{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}',
    );
    const future = await post('/v3/kv/range', { key: b64('foo'), revision: 99 });
    expect(JSON.parse(future.text)).toEqual({
      error: 'etcdserver: mvcc: required revision is a future revision',
      message: 'etcdserver: mvcc: required revision is a future revision',
      code: 11,
    });
  });

  it('validates as etcd does', async () => {
    const error = async (path: string, body: unknown): Promise<[number, string, number]> => {
      const r = await post(path, body);
      const parsed = JSON.parse(r.text) as { error: string; message: string; code: number };
      expect(parsed.error).toBe(parsed.message);
      return [r.status, parsed.message, parsed.code];
    };
    expect(await error('/v3/kv/range', {})).toEqual([400, 'etcdserver: key is not provided', 3]);
    expect(await error('/v3/kv/range', '')).toEqual([400, 'etcdserver: key is not provided', 3]);
    expect(await error('/v3/kv/range', { key: b64('a'), sort_order: 7 })).toEqual([400, 'etcdserver: invalid sort option', 3]);
    expect(await error('/v3/kv/range', { key: b64('a'), sort_target: 5 })).toEqual([400, 'etcdserver: invalid sort option', 3]);
    expect(await error('/v3/kv/put', { key: b64('a'), value: b64('x'), ignore_value: true })).toEqual([400, 'etcdserver: value is provided', 3]);
    expect(await error('/v3/kv/put', { key: b64('a'), lease: '5', ignore_lease: true })).toEqual([400, 'etcdserver: lease is provided', 3]);
    expect(await error('/v3/kv/put', { key: b64('a'), lease: '5' })).toEqual([404, 'etcdserver: requested lease not found', 5]);
    expect(await error('/v3/kv/put', { key: b64('a'), value: Buffer.alloc(5000).toString('base64') })).toEqual([400, 'etcdserver: request is too large', 3]);
    expect(await error('/v3/kv/txn', { success: [{}] })).toEqual([400, 'etcdserver: key not found', 3]);
    expect(await error('/v3/kv/txn', { compare: [{ key: '' }] })).toEqual([400, 'etcdserver: key is not provided', 3]);
    const ops = Array.from({ length: 129 }, () => ({ request_range: { key: b64('a') } }));
    expect(await error('/v3/kv/txn', { success: ops })).toEqual([400, 'etcdserver: too many operations in txn request', 3]);
    const [status, message, code] = await error('/v3/kv/range', 'garbage');
    expect([status, code]).toEqual([400, 3]);
    expect(message).toContain('JSON');
    expect(await error('/v3/kv/range', { key: '@@' })).toEqual([400, 'illegal base64 data at input byte 0', 3]);
    expect((await error('/v3/kv/range', { key: b64('a'), limit: 'abc' }))[2]).toBe(3);
    expect((await error('/v3/kv/range', { key: b64('a'), sort_order: 'SIDEWAYS' }))[2]).toBe(3);
  });

  it('serves Cluster calls without a revision in the header, and ids exactly', async () => {
    const list = await post('/v3/cluster/member/list', {});
    expect(list.text).toBe(
      `{"header":{"cluster_id":"${CLUSTER_ID}","member_id":"${MEMBER_ID}","raft_term":"2"},` +
        `"members":[{"ID":"${MEMBER_ID}","name":"default","peerURLs":["http://localhost:2380"],"clientURLs":["http://localhost:2379"]}]}`,
    );
    const added = JSON.parse((await post('/v3/cluster/member/add', { peerURLs: ['http://10.0.0.2:2380'], isLearner: true })).text) as {
      member: { ID: string; peerURLs: string[]; isLearner: boolean };
    };
    expect(added.member).toEqual({ ID: added.member.ID, peerURLs: ['http://10.0.0.2:2380'], isLearner: true });
    expect(BigInt(added.member.ID)).toBeGreaterThan(2n ** 53n);
    // A 64-bit id sent as a bare JSON number arrives exactly.
    const promoted = await post('/v3/cluster/member/promote', `{"ID": ${added.member.ID}}`);
    expect(promoted.status).toBe(200);
    const removed = await post('/v3/cluster/member/remove', `{"ID":${added.member.ID}}`);
    expect(removed.status).toBe(200);
    expect(JSON.parse(removed.text)).toEqual({
      header: { cluster_id: `${CLUSTER_ID}`, member_id: `${MEMBER_ID}`, raft_term: '2' },
      members: [{ ID: `${MEMBER_ID}`, name: 'default', peerURLs: ['http://localhost:2380'], clientURLs: ['http://localhost:2379'] }],
    });
    const notFound = await post('/v3/cluster/member/remove', { ID: '1' });
    expect([notFound.status, notFound.text]).toEqual([404, '{"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5}']);
    const notLearner = await post('/v3/cluster/member/promote', { ID: `${MEMBER_ID}` });
    expect([notLearner.status, JSON.parse(notLearner.text).code]).toEqual([412, 9]);
    for (const peerURLs of [[], ['http://10.0.0.4'], ['ftp://10.0.0.4:2380'], ['http://10.0.0.4:2380/path']]) {
      const bad = await post('/v3/cluster/member/add', { peerURLs });
      expect([bad.status, JSON.parse(bad.text).message]).toEqual([400, 'etcdserver: given member URLs are invalid']);
    }
  });

  it('serves Maintenance calls', async () => {
    const rev = fake.member.store.currentRev;
    const status = await post('/v3/maintenance/status', {});
    const index = fake.member.appliedIndex;
    expect(status.text).toBe(
      `{${HEADER(rev)},"version":"3.4.0","dbSize":"20480","leader":"${MEMBER_ID}","raftIndex":"${index}","raftTerm":"2",` +
        `"raftAppliedIndex":"${index}","dbSizeInUse":"16384"}`,
    );
    const hash = await fake.member.store.hashKV(0);
    expect(await post('/v3/maintenance/hashkv', {}).then((r) => r.text)).toBe(`{${HEADER(rev)},"hash":${hash.hash},"compact_revision":"5"}`);
    expect(await post('/v3/maintenance/hash', {}).then((r) => r.text)).toBe(`{${HEADER(rev)},"hash":${hash.hash}}`);
    expect(await post('/v3/maintenance/alarm', {}).then((r) => r.text)).toBe('{}');
    expect(await post('/v3/maintenance/defragment', {}).then((r) => r.text)).toBe('{}');
    expect(await post('/v3/maintenance/transfer-leadership', { targetID: `${MEMBER_ID}` }).then((r) => r.text)).toBe('{}');
    const bad = await post('/v3/maintenance/transfer-leadership', { targetID: '1' });
    expect([bad.status, JSON.parse(bad.text).message]).toEqual([412, 'etcdserver: bad leader transferee']);
  });

  it('answers what is not implemented yet with 501 and code 12', async () => {
    for (const path of ['/v3/auth/status', '/v3/auth/user/list', '/v3/maintenance/snapshot']) {
      const r = await post(path, {});
      expect(r.status, path).toBe(501);
      expect(JSON.parse(r.text).code).toBe(12);
    }
  });

  it('follows etcd for other paths and methods', async () => {
    const notFound = await fetch(`${fake.endpoint}/v3/kv/nope`, { method: 'POST', body: '{}' });
    expect([notFound.status, await notFound.text()]).toEqual([404, 'Not Found\n']);
    const root = await fetch(`${fake.endpoint}/`);
    expect([root.status, await root.text()]).toEqual([404, '404 page not found\n']);
    const get = await fetch(`${fake.endpoint}/v3/kv/range`);
    expect([get.status, await get.text()]).toEqual([405, 'Method Not Allowed\n']);
    const options = await fetch(`${fake.endpoint}/v3/kv/range`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('tells HTTP/1.1 from HTTP/2 when the first bytes come one at a time', async () => {
    // "P" could still be the HTTP/2 preface ("PRI * HTTP/2.0..."); "POST" cannot.
    const socket = net.connect(fake.port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8').on('data', (d: string) => (response += d));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const body = JSON.stringify({ key: b64('foo') });
    const request = `POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    for (const part of [request.slice(0, 1), request.slice(1, 3), request.slice(3)]) {
      socket.write(part);
      await new Promise((r) => setTimeout(r, 20));
    }
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toContain('"key":"Zm9v"');
  });

  it('serves /health and /version', async () => {
    const health = await fetch(`${fake.endpoint}/health`);
    expect([health.status, await health.text()]).toEqual([200, '{"health":"true"}']);
    fake.member.leader = 0n;
    try {
      const sick = await fetch(`${fake.endpoint}/health`);
      expect([sick.status, await sick.text()]).toEqual([503, '{"health":"false"}']);
    } finally {
      fake.member.leader = MEMBER_ID;
    }
    const version = await fetch(`${fake.endpoint}/version`);
    expect(await version.json()).toEqual({ etcdserver: '3.4.0', etcdcluster: '3.4.0' });
  });

  it('turns unexpected errors into UNKNOWN, logged', async () => {
    const original = fake.member.status.bind(fake.member);
    fake.member.status = () => Promise.reject(new Error('disk on fire'));
    try {
      const r = await post('/v3/maintenance/status', {});
      expect([r.status, r.text]).toEqual([500, '{"error":"disk on fire","message":"disk on fire","code":2}']);
    } finally {
      fake.member.status = original;
    }
    expect(fake.log.lines.some((l) => l.level === 'error' && l.msg === 'api: unexpected error' && l.fields['error'] === 'disk on fire')).toBe(true);
  });
});

describe('api: JSON mapping', () => {
  const rangeRequest = apiProtos().root.lookupType('etcdserverpb.RangeRequest');
  const member = apiProtos().root.lookupType('etcdserverpb.Member');

  it('quotes integers too long for a double, and nothing else', () => {
    expect(quoteLongIntegers('{"ID": 13668033151171901709, "n": 12, "s": "12345678901234567890", "f": 1234567890123456789.5}')).toBe(
      '{"ID": "13668033151171901709", "n": 12, "s": "12345678901234567890", "f": 1234567890123456789.5}',
    );
    expect(quoteLongIntegers('[-9223372036854775808,1e123456789012345678]')).toBe('["-9223372036854775808",1e123456789012345678]');
    expect(quoteLongIntegers('{"a":"\\"12345678901234567\\""}')).toBe('{"a":"\\"12345678901234567\\""}');
  });

  it('names fields as protoc does', () => {
    expect(jsonName('range_end')).toBe('rangeEnd');
    expect(jsonName('remaining_TTL')).toBe('remainingTTL');
    expect(jsonName('ID')).toBe('ID');
  });

  it('decodes into the gRPC shape and measures the encoded size', () => {
    const decoded = jsonToMessage(rangeRequest, '{"key":"Zm9v","limit":"10","sortOrder":"DESCEND"}');
    expect(decoded.message).toMatchObject({ key: Buffer.from('foo'), limit: '10', sort_order: 2, revision: '0', range_end: Buffer.alloc(0) });
    expect(decoded.encodedBytes).toBe(2 + 3 + 2 + 2);
    expect(() => jsonToMessage(rangeRequest, '{"limit":"18446744073709551616"}')).toThrow(/overflows int64/);
    expect(() => jsonToMessage(member, '{"ID":-1}')).toThrow(/overflows uint64/);
    expect(() => jsonToMessage(rangeRequest, '[1]')).toThrow(/cannot unmarshal array/);
  });

  it('leaves defaults out and writes 64-bit ids exactly', () => {
    expect(messageToJson(member, { ID: '18446744073709551615', name: '', peerURLs: [], clientURLs: ['x'], isLearner: false })).toEqual({
      ID: '18446744073709551615',
      clientURLs: ['x'],
    });
  });
});
