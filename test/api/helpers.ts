/**
 * Shared by the API tests: a FakeMember behind startApiServer on a free port, running the real
 * etcdctl, and starting a real etcd 3.4 to compare against.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ETCD_BIN, startRealEtcdCluster } from '../../cluster/real-etcd.js';
import { startApiServer, type ApiServer } from '../../src/api/index.js';
import { apiProtos, MESSAGE_OPTIONS } from '../../src/api/proto.js';
import type { Logger } from '../../src/util/index.js';
import { FakeMember, type FakeMemberOptions } from './fake-member.js';

export const ETCDCTL = '/usr/bin/etcdctl';
export const ETCD = ETCD_BIN;
export const hasEtcdctl = existsSync(ETCDCTL);
export const hasEtcd = existsSync(ETCD);

/** Log lines captured from the API layer (errors are what tests look at). */
export interface CapturedLog {
  readonly lines: { level: string; msg: string; fields: Record<string, unknown> }[];
  readonly logger: Logger;
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, msg, fields });
    };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export interface FakeServer {
  readonly member: FakeMember;
  readonly server: ApiServer;
  readonly port: number;
  /** http://127.0.0.1:port */
  readonly endpoint: string;
  readonly log: CapturedLog;
  close(): Promise<void>;
}

export async function startFake(options: FakeMemberOptions = {}): Promise<FakeServer> {
  const member = await FakeMember.open(options);
  const log = captureLog();
  const server = await startApiServer(member, { listenClientUrls: ['http://127.0.0.1:0'], logger: log.logger });
  const port = server.ports[0] as number;
  return { member, server, port, endpoint: `http://127.0.0.1:${port}`, log, close: () => server.close() };
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** Runs a program to completion with optional stdin; never rejects on a non-zero exit. */
export function run(file: string, args: readonly string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** `ETCDCTL_API=3 etcdctl --endpoints=<endpoint> ...args`. */
export function etcdctl(endpoint: string, args: readonly string[], stdin?: string): Promise<CommandResult> {
  return run(ETCDCTL, [`--endpoints=${endpoint}`, '--command-timeout=5s', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    ...(stdin === undefined ? {} : { stdin }),
  });
}

export interface RealEtcd {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A one-member etcd on free loopback ports with a temporary data dir; stop() kills it by PID. */
export async function startRealEtcd(): Promise<RealEtcd> {
  const etcd = await startRealEtcdCluster(1, { flags: ['--log-level=error'] });
  return { endpoint: etcd.endpoints[0] as string, stop: () => etcd.stop() };
}

let packageDefinition: protoLoader.PackageDefinition | undefined;

/**
 * A plain grpc-js client for one service of proto/ (e.g. 'etcdserverpb.Watch'), for the RPCs
 * the etcd3 package does not expose (Lock, Election, progress requests) and for malformed calls.
 */
export function rawClient(endpoint: string, service: string): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  packageDefinition ??= protoLoader.fromJSON(apiProtos().root.toJSON(), { keepCase: true, ...MESSAGE_OPTIONS });
  const definition = packageDefinition[service] as grpc.ServiceDefinition;
  const Client = grpc.makeGenericClientConstructor(definition, service);
  return new Client(endpoint.replace('http://', ''), grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
}

/** A unary call on a raw client as a promise. */
export function callUnary<T = Record<string, unknown>>(client: grpc.Client & Record<string, (...args: unknown[]) => unknown>, method: string, request: object, options: grpc.CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = client[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, request, new grpc.Metadata(), options, (err: grpc.ServiceError | null, res: T) => (err === null ? resolve(res) : reject(err)));
  });
}

/** Collects what a stream emits: responses, then its end or error. */
export class StreamRecorder<T = Record<string, unknown>> {
  readonly responses: T[] = [];
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(readonly stream: NodeJS.EventEmitter) {
    stream.on('data', (r: T) => this.responses.push(r));
    stream.on('error', (e: grpc.ServiceError) => (this.error = e));
    stream.on('end', () => (this.ended = true));
    stream.on('status', () => (this.ended = true));
  }

  /** Waits until `count` responses arrived (fails after timeoutMs). */
  async waitFor(count: number, timeoutMs = 5000): Promise<T[]> {
    await until(() => this.responses.length >= count || this.error !== undefined, timeoutMs, () => `${this.responses.length} of ${count} responses`);
    return this.responses;
  }

  async waitEnd(timeoutMs = 5000): Promise<void> {
    await until(() => this.ended || this.error !== undefined, timeoutMs, () => 'the end of the stream');
  }
}

/** Polls `cond` every 10 ms until it holds; rejects after timeoutMs naming what it waited for. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
