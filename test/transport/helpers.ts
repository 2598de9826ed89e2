/**
 * Shared by the transport tests: members on loopback with port 0, a log capture, bounded waits,
 * and cleanup that stops every transport a test started (so vitest exits with nothing running).
 */
import net from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { Transport, type PeerMessage, type SnapshotInfo, type TransportOptions } from '../../src/transport/index.js';
import type { LogFields, Logger } from '../../src/util/logger.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: LogFields;
}

export class CaptureLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', msg, fields });
  }
  info(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  has(level: LogLine['level'], msgPart: string, fieldPart?: string): boolean {
    return this.lines.some(
      (l) => l.level === level && l.msg.includes(msgPart) && (fieldPart === undefined || JSON.stringify(l.fields, bigintJson).includes(fieldPart)),
    );
  }
}

function bigintJson(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** A test message: raft-shaped enough (bigint ids), with a sequence number to check order. */
export interface TestMessage extends PeerMessage {
  readonly type: string;
  readonly to: bigint;
  readonly from: bigint;
  readonly seq: number;
  readonly data?: Uint8Array;
}

export function msg(from: bigint, to: bigint, seq: number, data?: Uint8Array): TestMessage {
  return data === undefined ? { type: 'MsgApp', to, from, seq } : { type: 'MsgApp', to, from, seq, data };
}

export type SnapshotHandler = (header: object, body: AsyncIterable<Uint8Array>, info: SnapshotInfo) => Promise<void>;

/** One member under test: its transport plus everything its callbacks saw. */
export class Member {
  readonly received: TestMessage[] = [];
  /** Sizes of the batches onMessages was called with. */
  readonly batches: number[] = [];
  readonly unreachable: bigint[] = [];
  readonly status: [bigint, boolean][] = [];
  readonly logger = new CaptureLogger();
  onSnapshot: SnapshotHandler = async (_h, body) => {
    for await (const _chunk of body) {
      // discard
    }
  };
  readonly transport: Transport;
  url = '';
  port = 0;

  constructor(
    readonly id: bigint,
    options: Partial<TransportOptions> = {},
  ) {
    this.transport = new Transport({
      id,
      clusterId: 0x1000n,
      listenPeerUrls: ['http://127.0.0.1:0'],
      backoffMinMs: 10,
      backoffMaxMs: 100,
      unreachableIntervalMs: 20,
      ...options,
      logger: this.logger,
      onMessages: (msgs) => {
        this.batches.push(msgs.length);
        for (const m of msgs) this.received.push(m as TestMessage);
      },
      onSnapshot: (header, body, info) => this.onSnapshot(header, body, info),
      onUnreachable: (peer) => this.unreachable.push(peer),
      onPeerStatus: (peer, active) => this.status.push([peer, active]),
    });
    started.push(this);
  }

  async start(): Promise<this> {
    const [bound] = await this.transport.start();
    if (bound === undefined) throw new Error('no listener bound');
    this.url = bound.url;
    this.port = bound.port;
    return this;
  }

  seqsFrom(from: bigint): number[] {
    return this.received.filter((m) => m.from === from).map((m) => m.seq);
  }
}

const started: Member[] = [];

/** Handles a transport can leave behind: sockets, listeners, timers, immediates. */
const HANDLE_KINDS = ['Timeout', 'Immediate', 'TCPSocketWrap', 'TCPServerWrap', 'TCPWRAP', 'TCPConnectWrap'];

export function liveHandles(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of process.getActiveResourcesInfo()) if (HANDLE_KINDS.includes(k)) out[k] = (out[k] ?? 0) + 1;
  return out;
}

let baseline: Record<string, number> = {};

beforeEach(() => {
  baseline = liveHandles();
});

// Every test ends by stopping its members and checking that nothing they opened is still
// running: stop() must leave no socket, listener, timer or immediate behind.
afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.transport.stop()));
  const leaked = (): string[] => {
    const now = liveHandles();
    return Object.keys(now).filter((k) => (now[k] ?? 0) > (baseline[k] ?? 0)).map((k) => `${k}: ${baseline[k] ?? 0} -> ${now[k]}`);
  };
  // Closing sockets finishes on the next turns; allow a moment, bounded.
  for (let i = 0; i < 50 && leaked().length > 0; i++) await sleep(10);
  if (leaked().length > 0) throw new Error(`handles left running after stop(): ${leaked().join(', ')}`);
});

/** Starts members and connects every pair both ways. */
export async function mesh(count: number, options: Partial<TransportOptions> = {}): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 1; i <= count; i++) members.push(await new Member(BigInt(i), options).start());
  for (const a of members) for (const b of members) if (a !== b) a.transport.addPeer(b.id, [b.url]);
  await until(() => members.every((a) => members.every((b) => a === b || a.transport.isActive(b.id))), 'mesh connected');
  return members;
}

/** Polls cond every few ms until it holds; fails after timeoutMs. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Bounded by the deadline.
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback port that nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
