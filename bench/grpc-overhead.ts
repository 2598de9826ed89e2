/**
 * What a gRPC server costs per unary call: grpc-js (what tsetcd served with before), a handler on
 * node:http2 that speaks the gRPC framing itself, and tsetcd's own (src/api/grpc-server.ts on
 * src/api/h2). Each server answers etcdserverpb.KV/Range with a RangeResponse after decoding the
 * request with protobufjs; they run in a child process,
 * one at a time, alternating, driven by the same grpc-js client with many calls in flight on a
 * few connections (as etcd's benchmark drives a member). Reported per round: calls/s and the
 * server process's CPU per call.
 *
 * Run: npx tsx bench/grpc-overhead.ts [--rounds 3] [--seconds 5] [--inflight 100] [--conns 10]
 */
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { protoRoot } from '../proto/index.js';
import { createGrpcServer } from '../src/api/grpc-server.js';
import { apiProtos } from '../src/api/proto.js';
import { nopLogger } from '../src/util/index.js';
import { benchArgs } from './common/args.js';

type Kind = 'grpc-js' | 'http2' | 'tsetcd';
const KINDS: readonly Kind[] = ['grpc-js', 'http2', 'tsetcd'];
const PATH = '/etcdserverpb.KV/Range';

function types(): { req: ReturnType<ReturnType<typeof protoRoot>['lookupType']>; res: ReturnType<ReturnType<typeof protoRoot>['lookupType']> } {
  const root = protoRoot();
  return { req: root.lookupType('etcdserverpb.RangeRequest'), res: root.lookupType('etcdserverpb.RangeResponse') };
}

// ---- the child: one server --------------------------------------------------------------------

async function serve(kind: Kind): Promise<void> {
  const { req, res } = types();
  const answer = Buffer.from(res.encode({ header: { revision: 1 } }).finish());
  let port: number;
  if (kind === 'grpc-js') {
    const server = new grpc.Server();
    const method = {
      path: PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => req.decode(b),
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    };
    server.addService({ Range: method } as grpc.ServiceDefinition, { Range: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, answer) });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  } else if (kind === 'tsetcd') {
    const handlers = new Map([[PATH, () => Promise.resolve({ header: { revision: 1 } })]]);
    const server = createGrpcServer(apiProtos(), handlers, new Map(), { maxReceiveBytes: 2 * 1024 * 1024, logger: nopLogger });
    const listener = net.createServer({ noDelay: true }, (socket) => server.serve(socket));
    port = await new Promise<number>((resolve) => listener.listen(0, '127.0.0.1', () => resolve((listener.address() as { port: number }).port)));
  } else {
    const framed = Buffer.alloc(5 + answer.length);
    framed.writeUInt32BE(answer.length, 1);
    answer.copy(framed, 5);
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      if (headers[':path'] !== PATH) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        req.decode(body.subarray(5, 5 + body.readUInt32BE(1)));
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(framed);
      });
    });
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  }
  let mark = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'mark') mark = process.cpuUsage();
    if (m === 'cpu') {
      const d = process.cpuUsage(mark);
      process.send?.({ cpuUs: d.user + d.system });
    }
  });
  process.send?.({ port });
}

// ---- the parent: load and figures ---------------------------------------------------------------

async function round(kind: Kind, o: { seconds: number; inflight: number; conns: number }): Promise<{ callsPerS: number; cpuUsPerCall: number }> {
  const child = fork(new URL(import.meta.url).pathname, ['--serve', kind], { execArgv: ['--import', 'tsx'] });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const { req } = types();
  const body = Buffer.from(req.encode({ key: Buffer.from('foo') }).finish());
  const clients = Array.from({ length: o.conns }, (_, i) => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.channel_id': i } as grpc.ChannelOptions));
  const call = (c: grpc.Client): Promise<void> =>
    new Promise((resolve, reject) => c.makeUnaryRequest(PATH, (b: Buffer) => b, (b: Buffer) => b, body, (e) => (e ? reject(e) : resolve())));
  // Warm up, then measure.
  await Promise.all(clients.map((c) => call(c)));
  let done = 0;
  let stop = false;
  const worker = async (c: grpc.Client): Promise<void> => {
    for (let i = 0; i < 10_000_000 && !stop; i++) {
      await call(c);
      done++;
    }
  };
  const warm = Array.from({ length: o.inflight }, (_, i) => worker(clients[i % o.conns] as grpc.Client));
  await new Promise((r) => setTimeout(r, 1000));
  child.send('mark');
  const d0 = done;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const calls = done - d0;
  const secs = (performance.now() - t0) / 1000;
  child.send('cpu');
  const { cpuUs } = await next<{ cpuUs: number }>();
  stop = true;
  await Promise.all(warm);
  for (const c of clients) c.close();
  child.kill();
  return { callsPerS: calls / secs, cpuUsPerCall: cpuUs / calls };
}

async function main(): Promise<void> {
  const values = benchArgs(import.meta.url, { serve: { type: 'string' }, rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, inflight: { type: 'string', default: '100' }, conns: { type: 'string', default: '10' } });
  if (values.serve !== undefined) {
    if (!KINDS.includes(values.serve as Kind)) throw new Error(`--serve: one of ${KINDS.join(', ')}, got ${values.serve}`);
    return serve(values.serve as Kind);
  }
  const o = { seconds: Number(values.seconds), inflight: Number(values.inflight), conns: Number(values.conns) };
  const rows: string[] = [];
  for (let r = 1; r <= Number(values.rounds); r++) {
    // Alternating the order, so a drifting machine hits every server.
    for (const kind of r % 2 === 1 ? KINDS : [...KINDS].reverse()) {
      const x = await round(kind, o);
      rows.push(`| ${r} | ${kind} | ${Math.round(x.callsPerS)} | ${x.cpuUsPerCall.toFixed(1)} |`);
      console.error(rows.at(-1));
    }
  }
  console.log(`unary Range, ${o.inflight} in flight on ${o.conns} connections, ${o.seconds} s per round\n\n| round | server | calls/s | server CPU µs/call |\n| ---: | --- | ---: | ---: |\n${rows.join('\n')}`);
}

await main();
