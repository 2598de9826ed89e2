/**
 * Test-only hooks for the fault-injection harness (JEPSEN-LITE.md item 4), used only by the test
 * entry point (tsetcd-test.ts, which jepsen-lite starts), never by `tsetcd` itself. They reach
 * the member as what it is built from: a Failpoints object, a clock, a file system wrapper and
 * strategies (src/server/env.ts), plus a Lock policy for the API and the `/test/*` peer routes.
 *
 * - Failpoints: named points in the member where `panic`, `sleep(ms)` or `error` can be injected,
 *   set at start with TSETCD_FAILPOINTS="name=action;name=action" or later through the peer
 *   port (`PUT /test/failpoints/<name>` with the action as body, `off` to clear). A failpoint
 *   that fires logs "failpoint fired" with its name first, so the harness can tell an injected
 *   crash from a real one.
 * - A clock with an offset and a strobe (`PUT /test/clock` with {"offsetMs": n} or
 *   {"strobeMs": n, "periodMs": p}: the offset flips between 0 and n every p ms). Lease expiry
 *   reads it; raft's ticks are intervals and are not shifted by an offset.
 * - An fs shim for the WAL and snapshot files that records each successful fsync, so a
 *   "crash with data loss" can cut every file back to what was durable (see SyncRecordingFs).
 * - Bug switches, TSETCD_BUGS="a,b": deliberate bugs the harness must catch (positive controls).
 * - TSETCD_PEER_SOURCE_ADDRESS=127.0.0.N: peer connections (raft and forwarded requests) leave
 *   from that loopback address, so the harness's per-link proxies know who is talking.
 */
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Failpoints, MemberStrategies } from '../server/env.js';
import type { LockPolicy } from '../server/lock.js';
import type { RealEnvOptions } from '../server/real-env.js';
import type { ResponseHeader, WatchResult } from '../server/service.js';
import { nodeFs, type Fs, type FsFile, type OpenFlags } from '../wal/fs.js';
import type { Logger } from '../util/logger.js';
import { BUGS, FAILPOINTS, type BugName, type FailpointName } from '../util/test-hook-names.js';

type Action = { readonly kind: 'panic' } | { readonly kind: 'sleep'; readonly ms: number } | { readonly kind: 'error' };

/** The error a failpoint with action `error` throws. */
export class FailpointError extends Error {
  constructor(readonly failpoint: string) {
    super(`failpoint ${failpoint}: injected error`);
  }
}

export class TestHooks implements Failpoints {
  private readonly failpoints = new Map<FailpointName, Action>();
  private readonly bugs: ReadonlySet<BugName>;
  private offsetMs = 0;
  private strobe: { readonly ms: number; readonly periodMs: number } | undefined;
  /** Set when any failpoint is armed: the hot path tests only this. */
  armed = false;

  constructor(
    bugs: readonly BugName[],
    private readonly logger: Logger,
    /** Where this member's peer connections leave from (TSETCD_PEER_SOURCE_ADDRESS), for the harness's proxies. */
    readonly peerSourceAddress?: string,
  ) {
    this.bugs = new Set(bugs);
  }

  /** From TSETCD_TEST_HOOKS, TSETCD_FAILPOINTS and TSETCD_BUGS; undefined when not enabled. */
  static fromEnv(env: NodeJS.ProcessEnv, logger: Logger): TestHooks | undefined {
    if (env['TSETCD_TEST_HOOKS'] !== '1') {
      if (env['TSETCD_FAILPOINTS'] || env['TSETCD_BUGS']) throw new Error('TSETCD_FAILPOINTS and TSETCD_BUGS need TSETCD_TEST_HOOKS=1');
      return undefined;
    }
    const bugs = (env['TSETCD_BUGS'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    for (const b of bugs) if (!isBug(b)) throw new Error(`unknown bug switch "${b}" (known: ${BUGS.join(', ')})`);
    const source = env['TSETCD_PEER_SOURCE_ADDRESS'];
    const hooks = new TestHooks(bugs as BugName[], logger, source !== undefined && source !== '' ? source : undefined);
    for (const part of (env['TSETCD_FAILPOINTS'] ?? '').split(';')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw new Error(`bad TSETCD_FAILPOINTS entry "${part}" (want name=action)`);
      hooks.setFailpoint(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    if (bugs.length > 0) logger.warn('test hooks: bug switches on', { bugs });
    return hooks;
  }

  bug(name: BugName): boolean {
    return this.bugs.has(name);
  }

  /** Arms (or with 'off', clears) a failpoint. Throws on an unknown name or action. */
  setFailpoint(name: string, action: string): void {
    if (!isFailpoint(name)) throw new Error(`unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`);
    if (action === 'off') {
      this.failpoints.delete(name);
    } else {
      this.failpoints.set(name, parseAction(action));
    }
    this.armed = this.failpoints.size > 0;
    this.logger.info('test hooks: failpoint set', { failpoint: name, action });
  }

  /** Runs the failpoint's action if it is armed: exits, sleeps or throws FailpointError. */
  async hit(name: FailpointName): Promise<void> {
    const action = this.failpoints.get(name);
    if (action === undefined) return;
    this.logger.warn('failpoint fired', { failpoint: name, action: action.kind });
    switch (action.kind) {
      case 'panic':
        // stderr is a pipe or file: the line above is written synchronously before we go.
        process.exit(86);
        break;
      case 'sleep':
        await new Promise((r) => setTimeout(r, action.ms));
        break;
      case 'error':
        throw new FailpointError(name);
    }
  }

  /** Sets the clock: a fixed offset, or a strobe flipping between 0 and ms every periodMs. */
  setClock(c: { offsetMs?: number; strobeMs?: number; periodMs?: number }): void {
    this.offsetMs = c.offsetMs ?? 0;
    this.strobe = c.strobeMs !== undefined && c.periodMs !== undefined && c.periodMs > 0 ? { ms: c.strobeMs, periodMs: c.periodMs } : undefined;
    this.logger.info('test hooks: clock set', { offsetMs: this.offsetMs, strobe: this.strobe });
  }

  nowMs(): number {
    const real = Date.now();
    const strobe = this.strobe;
    const s = strobe !== undefined && Math.floor(real / strobe.periodMs) % 2 === 1 ? strobe.ms : 0;
    return real + this.offsetMs + s;
  }
}

/** What a member is built with under these hooks (see tsetcd-test.ts). */
export interface HookedMember {
  readonly env: RealEnvOptions;
  readonly strategies: MemberStrategies;
  readonly lockPolicy?: LockPolicy;
}

/** The environment options, strategies and lock policy these hooks give a member in memberDir. */
export function hookedMember(hooks: TestHooks, memberDir: string): HookedMember {
  const fs = new SyncRecordingFs(nodeFs, SyncRecordingFs.recordPath(memberDir), hooks.bug('ack-before-fsync'));
  return {
    env: {
      clock: { nowMs: () => hooks.nowMs() },
      fs,
      failpoints: hooks,
      ...(hooks.peerSourceAddress !== undefined ? { peerSourceAddress: hooks.peerSourceAddress } : {}),
      extraPeerRoute: (req, res) => serveTestRoute(hooks, req, res),
    },
    ...bugStrategies((b) => hooks.bug(b)),
  };
}

/**
 * The strategies and lock policy of the bug switches that live in the member (ack-before-fsync
 * lives in the file system: SyncRecordingFs here, the simulated disk in test/sim-cluster).
 */
export function bugStrategies(on: (bug: BugName) => boolean): { readonly strategies: MemberStrategies; readonly lockPolicy?: LockPolicy } {
  return {
    strategies: {
      ...(on('read-without-readindex') ? { readPolicy: () => Promise.resolve() } : {}),
      ...(on('skip-watch-event') ? { watchOutgoing: skipEvery50th } : {}),
      ...(on('stale-commit-restart') ? { commitOnly: 'memory' as const } : {}),
    },
    ...(on('lock-without-lease-check') ? { lockPolicy: (_wait: unknown, enqueued: ResponseHeader) => Promise.resolve(enqueued) } : {}),
  };
}

/** The skip-watch-event bug, per stream: every 50th event sent on the stream is left out. */
function skipEvery50th(): (result: WatchResult) => WatchResult {
  let sent = 0;
  return (result) => {
    const before = sent;
    sent += result.events.length;
    if (Math.floor(sent / 50) === Math.floor(before / 50)) return result;
    return { ...result, events: result.events.filter((_, i) => (before + i + 1) % 50 !== 0) };
  };
}

/** PUT /test/failpoints/<name> (body: the action) and PUT /test/clock (JSON), for the harness. */
function serveTestRoute(hooks: TestHooks, req: IncomingMessage, res: ServerResponse): boolean {
  const pathname = new URL(req.url ?? '/', 'http://peer').pathname;
  if (req.method !== 'PUT' || !pathname.startsWith('/test/')) return false;
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d.slice(0, 4096)));
  req.on('end', () => {
    try {
      const fp = /^\/test\/failpoints\/([A-Za-z]+)$/.exec(pathname);
      if (fp) hooks.setFailpoint(fp[1] as string, body.trim());
      else if (pathname === '/test/clock') hooks.setClock(JSON.parse(body) as { offsetMs?: number; strobeMs?: number; periodMs?: number });
      else throw new Error(`unknown test hook ${pathname}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    } catch (e) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  return true;
}

function isFailpoint(s: string): s is FailpointName {
  return (FAILPOINTS as readonly string[]).includes(s);
}

function isBug(s: string): s is BugName {
  return (BUGS as readonly string[]).includes(s);
}

function parseAction(a: string): Action {
  if (a === 'panic') return { kind: 'panic' };
  if (a === 'error') return { kind: 'error' };
  const m = /^sleep\((\d+)\)$/.exec(a);
  if (m) return { kind: 'sleep', ms: Number(m[1]) };
  throw new Error(`bad failpoint action "${a}" (want panic, sleep(ms), error or off)`);
}

/**
 * Wraps the WAL's file system: after each successful fsync/fdatasync of a file it appends
 * `<size> <path>` to the record file, and `rename <from> <to>` after a rename. The record is a
 * plain append (the page cache keeps it across a SIGKILL), read by the harness after killing the
 * member: every recorded file is cut back to its last recorded size, and a file never recorded
 * is removed, which is what a power loss could leave. `ack-before-fsync` makes syncs no-ops
 * (and records nothing), so acknowledged writes are lost by such a crash.
 */
export class SyncRecordingFs implements Fs {
  constructor(
    private readonly inner: Fs,
    private readonly recordFile: string,
    private readonly skipSync: boolean,
  ) {}

  static recordPath(memberDir: string): string {
    return path.join(memberDir, 'test-fsync.log');
  }

  async open(file: string, flags: OpenFlags): Promise<FsFile> {
    const f = await this.inner.open(file, flags);
    const record = (): Promise<void> => this.recordSize(file, f);
    const skip = this.skipSync;
    return {
      read: (b, o, l, p) => f.read(b, o, l, p),
      write: (bufs, p) => f.write(bufs, p),
      datasync: async () => {
        if (skip) return;
        await f.datasync();
        await record();
      },
      sync: async () => {
        if (skip) return;
        await f.sync();
        await record();
      },
      truncate: (n) => f.truncate(n),
      stat: () => f.stat(),
      close: () => f.close(),
    };
  }

  readdir(dir: string): Promise<string[]> {
    return this.inner.readdir(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.inner.rename(from, to);
    appendFileSync(this.recordFile, `rename ${from} ${to}\n`);
  }

  unlink(file: string): Promise<void> {
    return this.inner.unlink(file);
  }

  mkdir(dir: string): Promise<void> {
    return this.inner.mkdir(dir);
  }

  private async recordSize(file: string, f: FsFile): Promise<void> {
    const { size } = await f.stat().catch(() => ({ size: -1 }));
    // A directory fsync (size of a directory inode) is recorded too; the harness skips dirs.
    if (size >= 0) appendFileSync(this.recordFile, `${size} ${file}\n`);
  }
}
