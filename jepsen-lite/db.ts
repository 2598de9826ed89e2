/**
 * The cluster under test (JEPSEN-LITE.md item 2): N tsetcd member processes on 127.0.0.1, each
 * with its data dir under `<run>/nodes/<n>/data` and its output in `<run>/nodes/<n>/log`, peer
 * traffic through one PeerProxy per member (proxy.ts).
 *
 * Ports, per member, all free on 127.0.0.1 when the run starts:
 *   client  — the member's gRPC/gateway listener (workloads dial it directly);
 *   peer    — the member's own peer listener (only the proxy and the harness's test hooks dial it);
 *   proxy   — what the member advertises to the others (--initial-advertise-peer-urls and its
 *             --initial-cluster entry), forwarding to `peer`.
 * Member i dials its peers from 127.0.0.(10+i) (TSETCD_PEER_SOURCE_ADDRESS), so the proxies can
 * tell the sender of each connection.
 *
 * The Db only ever signals processes it spawned, by their PID, and every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, truncate, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../cluster/local-cluster.js';
import { EtcdClient } from '../src/client/index.js';
import type { Prng } from '../src/util/prng.js';
import { LinkFaultNet, PeerProxy } from './proxy.js';
import type { Db, LossReport, NodeInfo, NodeState, RunConfig } from './types.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The repository, or dist/ when running the built harness (dist/jepsen-lite/cli.js). */
export const REPO_ROOT = path.join(HERE, '..');
/** The member's entry: the TypeScript through tsx from a checkout, the built JS from dist/. */
const MEMBER_COMMAND: readonly string[] = existsSync(path.join(REPO_ROOT, 'src/cli/tsetcd-test.ts'))
  ? ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/tsetcd-test.ts')]
  : [path.join(REPO_ROOT, 'src/cli/tsetcd-test.js')];

/** How a member process ended, for the health check (item 31). */
export interface ExitRecord {
  readonly node: string;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** ms since the epoch. */
  readonly atMs: number;
  /** 'harness': we killed it; 'fault': a nemesis armed a crash (failpoint, corrupted disk); false: unexpected. */
  readonly expected: 'harness' | 'fault' | false;
}

interface Member {
  readonly info: NodeInfo;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly proxy: PeerProxy;
  child: ChildProcess | undefined;
  state: NodeState;
  /** Set while the harness is signalling the process to end. */
  killing: boolean;
  /** Set while a nemesis expects the member may crash on its own. */
  crashExpected: boolean;
  client: EtcdClient;
  /** How the member's process starts: 'new' with the founding cluster, 'existing' when it joined later. */
  clusterState: 'new' | 'existing';
  /** Its --initial-cluster (the founding cluster, or the members when it joined). */
  initialCluster: string;
}

export interface DbOptions {
  readonly runDir: string;
  readonly prng: Prng;
  /** Wait for a healthy leader at start (ms). */
  readonly startTimeoutMs?: number;
}

export class ProcessDb implements Db {
  readonly nodes: NodeInfo[] = [];
  readonly exits: ExitRecord[] = [];
  /** Every member process this Db spawned, in order. */
  readonly spawned: { readonly node: string; readonly pid: number }[] = [];
  private readonly members = new Map<string, Member>();
  private readonly proxies = new Map<string, PeerProxy>();
  private readonly links: LinkFaultNet;
  /** Member id (hex) → name, learned from Status headers. */
  private readonly idToName = new Map<bigint, string>();
  private stopped = false;
  private readonly onProcessExit = (): void => this.killAllSync();

  private constructor(
    readonly config: RunConfig,
    private readonly opts: DbOptions,
    members: Member[],
    /** Source address → member name, shared with every proxy (members added later join it). */
    private readonly sources: Map<string, string>,
  ) {
    for (const m of members) {
      this.members.set(m.info.name, m);
      this.nodes.push(m.info);
      this.proxies.set(m.info.name, m.proxy);
    }
    const founding = this.nodes.map((n) => `${n.name}=${n.advertisedPeerUrl}`).join(',');
    for (const m of members) m.initialCluster = founding;
    this.links = new LinkFaultNet(this.proxies);
  }

  /** Chooses ports and directories and starts the proxies; members start with start(). */
  static async create(config: RunConfig, opts: DbOptions): Promise<ProcessDb> {
    if (!(config.nodes >= 1 && config.nodes <= 9)) throw new Error(`--nodes must be 1..9, got ${config.nodes}`);
    const sources = new Map<string, string>();
    const plan: { name: string; clientPort: number; peerPort: number; proxyPort: number; source: string }[] = [];
    for (let i = 1; i <= config.nodes; i++) {
      const name = `n${i}`;
      const source = `127.0.0.${10 + i}`;
      sources.set(source, name);
      plan.push({ name, clientPort: await freePort(), peerPort: await freePort(), proxyPort: await freePort(), source });
    }
    const members: Member[] = [];
    for (const p of plan) {
      const dir = path.join(opts.runDir, 'nodes', p.name);
      await mkdir(dir, { recursive: true });
      const proxy = new PeerProxy(p.name, { host: '127.0.0.1', port: p.peerPort }, sources, opts.prng.fork(), p.proxyPort);
      await proxy.listen();
      const clientUrl = `http://127.0.0.1:${p.clientPort}`;
      members.push({
        info: {
          name: p.name,
          clientUrl,
          advertisedPeerUrl: `http://127.0.0.1:${proxy.port}`,
          peerListenUrl: `http://127.0.0.1:${p.peerPort}`,
          sourceAddress: p.source,
          dataDir: path.join(dir, 'data'),
          logFile: path.join(dir, 'log'),
        },
        clientPort: p.clientPort,
        peerPort: p.peerPort,
        proxy,
        child: undefined,
        state: 'killed',
        killing: false,
        crashExpected: false,
        client: new EtcdClient({ endpoints: [clientUrl], timeoutMs: 1000 }),
        clusterState: 'new',
        initialCluster: '',
      });
    }
    const db = new ProcessDb(config, opts, members, sources);
    process.on('exit', db.onProcessExit);
    return db;
  }

  private member(name: string): Member {
    const m = this.members.get(name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  state(name: string): NodeState {
    return this.member(name).state;
  }

  /** Names of members whose process is running (not paused). */
  upNodes(): string[] {
    return this.nodes.filter((n) => this.state(n.name) === 'up').map((n) => n.name);
  }

  /** Names of members that are part of the cluster (not removed). */
  memberNames(): string[] {
    return this.nodes.filter((n) => this.state(n.name) !== 'removed').map((n) => n.name);
  }

  private args(m: Member): string[] {
    const electionMs = this.config.electionMs;
    const heartbeatMs = Math.max(10, Math.floor(electionMs / 10));
    return [
      '--name', m.info.name,
      '--data-dir', m.info.dataDir,
      '--listen-client-urls', m.info.clientUrl,
      '--advertise-client-urls', m.info.clientUrl,
      '--listen-peer-urls', m.info.peerListenUrl,
      '--initial-advertise-peer-urls', m.info.advertisedPeerUrl,
      '--initial-cluster', m.initialCluster,
      '--initial-cluster-state', m.clusterState,
      '--initial-cluster-token', `jepsen-lite-${this.config.seed}`,
      '--heartbeat-interval', String(heartbeatMs),
      '--election-timeout', String(electionMs),
      ...this.config.memberFlags,
    ];
  }

  private spawnMember(m: Member): void {
    if (this.stopped) throw new Error('db stopped');
    if (m.child !== undefined) throw new Error(`${m.info.name} is still running (pid ${m.child.pid})`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TSETCD_TEST_HOOKS: '1',
      TSETCD_PEER_SOURCE_ADDRESS: m.info.sourceAddress,
      TSETCD_BUGS: this.config.bugs.join(','),
      TSETCD_FAILPOINTS: this.config.failpoints.join(';'),
    };
    const fd = openSync(m.info.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...MEMBER_COMMAND, ...this.args(m)], { cwd: REPO_ROOT, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not spawn ${m.info.name}`);
    m.child = child;
    m.state = 'up';
    this.spawned.push({ node: m.info.name, pid });
    // A failed signal to a process that already ended; the exit below records the rest.
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      const expected = m.killing ? 'harness' : m.crashExpected ? 'fault' : false;
      this.exits.push({ node: m.info.name, pid, code, signal, atMs: Date.now(), expected });
      if (m.child === child) {
        m.child = undefined;
        if (m.state !== 'removed') m.state = 'killed';
      }
    });
  }

  async start(): Promise<void> {
    for (const m of this.members.values()) this.spawnMember(m);
    const ok = await this.waitHealthy(this.opts.startTimeoutMs ?? 30_000);
    if (!ok) throw new Error(`no healthy leader within ${this.opts.startTimeoutMs ?? 30_000} ms of starting; see ${path.join(this.opts.runDir, 'nodes')}/*/log`);
  }

  /**
   * Waits until some member answers a linearizable read (which needs a leader and a quorum).
   * Returns false when the deadline passes.
   */
  async waitHealthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Bounded by the deadline: each round takes at least 100 ms.
    while (Date.now() < deadline) {
      // Every member exited (bad flags, a refused data dir): no point waiting out the deadline.
      if (this.memberNames().every((n) => this.member(n).child === undefined)) return false;
      for (const name of this.upNodes()) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        try {
          await this.member(name).client.range({ key: 'jepsen-lite/health' }, { timeoutMs: Math.min(1000, left) });
          return true;
        } catch {
          // not yet
        }
      }
      await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
    }
    return false;
  }

  private async signalAndWait(m: Member, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    const child = m.child;
    if (child === undefined) return true;
    const exited = new Promise<boolean>((resolve) => {
      child.once('exit', () => resolve(true));
      setTimeout(() => resolve(false), timeoutMs).unref();
    });
    m.killing = true;
    child.kill(signal);
    const ok = await exited;
    m.killing = false;
    return ok;
  }

  async kill(name: string): Promise<void> {
    const m = this.member(name);
    if (m.child === undefined) return;
    // SIGKILL ends a stopped (SIGSTOPped) process too.
    const ok = await this.signalAndWait(m, 'SIGKILL', 5000);
    if (!ok) throw new Error(`${name} (pid ${m.child?.pid}) did not exit 5 s after SIGKILL`);
    m.state = 'killed';
  }

  async restart(name: string): Promise<void> {
    const m = this.member(name);
    if (m.child !== undefined) {
      if (m.state === 'paused') this.resume(name);
      return;
    }
    if (m.state === 'removed') throw new Error(`${name} was removed`);
    this.spawnMember(m);
  }

  /** Marks that a nemesis expects `name` may exit on its own (armed panic, corrupted disk). */
  expectCrash(name: string, expected: boolean): void {
    this.member(name).crashExpected = expected;
  }

  async loseUnsyncedWrites(name: string): Promise<LossReport> {
    const m = this.member(name);
    if (m.child !== undefined) throw new Error(`loseUnsyncedWrites(${name}): the member is running; kill it first`);
    return cutToLastSync(path.join(m.info.dataDir, 'member'), REPO_ROOT);
  }

  /** Deletes a stopped member's data dir. */
  async wipe(name: string): Promise<void> {
    const m = this.member(name);
    if (m.child !== undefined) throw new Error(`wipe(${name}): the member is running`);
    await rm(m.info.dataDir, { recursive: true, force: true });
  }

  pause(name: string): void {
    const m = this.member(name);
    if (m.child === undefined || m.state !== 'up') return;
    m.child.kill('SIGSTOP');
    m.state = 'paused';
  }

  resume(name: string): void {
    const m = this.member(name);
    if (m.child === undefined || m.state !== 'paused') return;
    m.child.kill('SIGCONT');
    m.state = 'up';
  }

  /** The client of one member (1 s deadline), owned by the Db. */
  memberClient(name: string): EtcdClient {
    return this.member(name).client;
  }

  async leader(): Promise<string | undefined> {
    for (const name of this.upNodes()) {
      try {
        const s = await this.member(name).client.status(undefined, { timeoutMs: 1000 });
        this.idToName.set(s.header.memberId, name);
        if (s.leader === 0n) continue;
        const known = this.idToName.get(s.leader);
        if (known !== undefined) return known;
        const list = await this.member(name).client.memberList({}, { timeoutMs: 1000 });
        for (const mem of list.members) if (this.members.has(mem.name)) this.idToName.set(mem.id, mem.name);
        const found = this.idToName.get(s.leader);
        if (found !== undefined) return found;
      } catch {
        // try the next member
      }
    }
    return undefined;
  }

  cut(from: string, to: string): void {
    this.links.cut(from, to);
  }

  delay(from: string, to: string, baseMs: number, jitterMs: number): void {
    this.links.delay(from, to, baseMs, jitterMs);
  }

  drop(from: string, to: string, fraction: number): void {
    this.links.drop(from, to, fraction);
  }

  healLinks(): void {
    this.links.heal();
  }

  /** Open connections through each member's proxy, by sender (undefined: not a member). */
  proxyConnections(): Record<string, { from: string | undefined; held: boolean }[]> {
    return Object.fromEntries([...this.proxies].map(([n, p]) => [n, p.connections()]));
  }

  async testHook(name: string, hookPath: string, body: string): Promise<void> {
    const m = this.member(name);
    const res = await fetch(`${m.info.peerListenUrl}${hookPath}`, { method: 'PUT', body, signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${name} PUT ${hookPath}: ${res.status} ${text.trim()}`);
  }

  // --- membership (item 2: add/remove members; the member nemesis drives these) -------------

  /** A running member other than `except` to send cluster requests to, the leader first. */
  private async via(except?: string): Promise<Member> {
    const leader = await this.leader();
    const up = this.upNodes().filter((n) => n !== except && this.member(n).state === 'up');
    const name = leader !== undefined && leader !== except && up.includes(leader) ? leader : up[0];
    if (name === undefined) throw new Error('no running member to ask');
    return this.member(name);
  }

  /** Member id of `name` from MemberList (by name, or by peer URL for one not started yet). */
  async memberId(name: string): Promise<bigint | undefined> {
    const m = this.member(name);
    const list = await (await this.via(name)).client.memberList({}, { timeoutMs: 2000 });
    return list.members.find((x) => x.name === name || x.peerUrls.includes(m.info.advertisedPeerUrl))?.id;
  }

  /**
   * Adds a member as a learner (MemberAdd), then starts its process joining the cluster. With
   * `reuse`, the slot of a removed member (same name, ports and source address) is used again
   * with a wiped data dir: a replace. Returns the member's name.
   */
  async addLearner(reuse?: string): Promise<string> {
    let m: Member;
    if (reuse !== undefined) {
      m = this.member(reuse);
      if (m.state !== 'removed' || m.child !== undefined) throw new Error(`addLearner(${reuse}): the slot is not a removed, stopped member`);
      await rm(m.info.dataDir, { recursive: true, force: true });
    } else {
      const i = this.nodes.length + 1;
      if (i > 9) throw new Error('at most 9 members');
      const name = `n${i}`;
      const source = `127.0.0.${10 + i}`;
      const dir = path.join(this.opts.runDir, 'nodes', name);
      await mkdir(dir, { recursive: true });
      const clientPort = await freePort();
      const peerPort = await freePort();
      const proxy = new PeerProxy(name, { host: '127.0.0.1', port: peerPort }, this.sources, this.opts.prng.fork(), await freePort());
      await proxy.listen();
      const clientUrl = `http://127.0.0.1:${clientPort}`;
      m = {
        info: { name, clientUrl, advertisedPeerUrl: `http://127.0.0.1:${proxy.port}`, peerListenUrl: `http://127.0.0.1:${peerPort}`, sourceAddress: source, dataDir: path.join(dir, 'data'), logFile: path.join(dir, 'log') },
        clientPort,
        peerPort,
        proxy,
        child: undefined,
        state: 'removed',
        killing: false,
        crashExpected: false,
        client: new EtcdClient({ endpoints: [clientUrl], timeoutMs: 1000 }),
        clusterState: 'existing',
        initialCluster: '',
      };
      this.sources.set(source, name);
      this.members.set(name, m);
      this.proxies.set(name, proxy);
      this.nodes.push(m.info);
    }
    // After a remove (of the leader, say) the cluster may still be electing: wait for it.
    if (!(await this.waitHealthy(10_000))) throw new Error(`addLearner(${m.info.name}): no healthy leader within 10 s`);
    const via = await this.via(m.info.name);
    const res = await gateway(via.info.clientUrl, 'cluster/member/add', { peerURLs: [m.info.advertisedPeerUrl], isLearner: true }, 10_000).catch((e: unknown) => {
      throw new Error(`MemberAdd of ${m.info.name} via ${via.info.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    });
    const members = (res['members'] ?? []) as { name?: string; peerURLs?: string[] }[];
    // The new member is listed without a name until it starts; it takes its own.
    const cluster = members.map((x) => {
      const url = x.peerURLs?.[0] ?? '';
      const name = url === m.info.advertisedPeerUrl ? m.info.name : (x.name ?? this.nodes.find((n) => n.advertisedPeerUrl === url)?.name ?? '');
      return `${name}=${url}`;
    });
    m.clusterState = 'existing';
    m.initialCluster = cluster.join(',');
    m.state = 'killed';
    this.spawnMember(m);
    return m.info.name;
  }

  /** Promotes a learner once it has caught up (retries the refusal for at most timeoutMs). */
  async promote(name: string, timeoutMs = 15_000): Promise<void> {
    const id = await this.memberId(name);
    if (id === undefined) throw new Error(`promote(${name}): not a member`);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    // Bounded by the deadline; each try waits 300 ms or more.
    while (Date.now() < deadline) {
      try {
        await gateway((await this.via(name)).info.clientUrl, 'cluster/member/promote', { ID: id.toString() });
        return;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
        await sleep(300);
      }
    }
    throw new Error(`promote(${name}) not accepted within ${timeoutMs} ms: ${last}`);
  }

  /** MemberRemove, then stops the process; its slot can be reused by addLearner(name). */
  async removeMember(name: string): Promise<void> {
    const m = this.member(name);
    const id = await this.memberId(name);
    if (id !== undefined) {
      const via = await this.via(name);
      await gateway(via.info.clientUrl, 'cluster/member/remove', { ID: id.toString() }, 10_000).catch((e: unknown) => {
        throw new Error(`MemberRemove of ${name} via ${via.info.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      });
    }
    if (m.child !== undefined) {
      if (m.state === 'paused') m.child.kill('SIGCONT');
      await this.signalAndWait(m, 'SIGKILL', 5000);
    }
    m.state = 'removed';
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      [...this.members.values()].map(async (m) => {
        if (m.child === undefined) return;
        if (m.state === 'paused') m.child.kill('SIGCONT');
        if (!(await this.signalAndWait(m, 'SIGTERM', 3000))) await this.signalAndWait(m, 'SIGKILL', 3000);
      }),
    );
    for (const m of this.members.values()) m.client.close();
    for (const p of this.proxies.values()) await p.close();
    process.off('exit', this.onProcessExit);
  }

  /** Last resort when the harness itself exits: SIGKILL our own children by PID. */
  private killAllSync(): void {
    for (const m of this.members.values()) {
      const pid = m.child?.pid;
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Cuts every file under `<memberDir>/wal` and `<memberDir>/snap` back to its last fsynced size
 * as recorded in `<memberDir>/test-fsync.log` (lines `<size> <path>` and `rename <from> <to>`,
 * see SyncRecordingFs), and removes files never recorded: what a power loss could leave. Paths
 * in the record are resolved against `cwd` (the member's working directory) when relative.
 * Directories are skipped.
 */
export async function cutToLastSync(memberDir: string, cwd: string): Promise<LossReport> {
  const synced = new Map<string, number>();
  // The shim names a file by the path it was opened with: after `rename A B`, fsyncs of the
  // handle still open on A are recorded as A although the data now lives at B. So a size line
  // for A also counts for wherever A was renamed to (the larger size wins there: a WAL segment
  // only grows while it is appended to).
  const renamedTo = new Map<string, string>();
  const finalName = (p: string): string => {
    let cur = p;
    // Bounded: a chain can be no longer than the number of renames.
    for (let i = 0; i <= renamedTo.size; i++) {
      const next = renamedTo.get(cur);
      if (next === undefined || next === p) break;
      cur = next;
    }
    return cur;
  };
  let record = '';
  try {
    record = await readFile(path.join(memberDir, 'test-fsync.log'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const line of record.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('rename ')) {
      const [, from, to] = line.split(' ');
      if (from === undefined || to === undefined) continue;
      const f = path.resolve(cwd, from);
      const t = path.resolve(cwd, to);
      const size = synced.get(f);
      synced.delete(f);
      // A rename of a file never synced since: its content is what it was at its last sync.
      if (size !== undefined) synced.set(t, size);
      else synced.delete(t);
      renamedTo.set(f, t);
      renamedTo.delete(t);
      continue;
    }
    const sp = line.indexOf(' ');
    // A line torn by the kill itself (no size or no path) is ignored.
    const size = Number(line.slice(0, sp));
    if (sp <= 0 || !Number.isSafeInteger(size) || size < 0) continue;
    const file = path.resolve(cwd, line.slice(sp + 1));
    synced.set(file, size);
    const moved = finalName(file);
    if (moved !== file) synced.set(moved, Math.max(size, synced.get(moved) ?? 0));
  }
  const report = { truncated: {} as Record<string, [number, number]>, removed: [] as string[] };
  for (const sub of ['wal', 'snap']) {
    const dir = path.join(memberDir, sub);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    for (const name of names.sort()) {
      const file = path.join(dir, name);
      const st = await stat(file);
      if (!st.isFile()) continue;
      const rel = path.relative(memberDir, file);
      const size = synced.get(path.resolve(file));
      if (size === undefined) {
        await unlink(file);
        report.removed.push(rel);
      } else if (st.size > size) {
        await truncate(file, size);
        report.truncated[rel] = [st.size, size];
      }
    }
  }
  return report;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** POST to a member's JSON gateway: HashKV, Defragment and member changes, which src/client lacks. */
export async function gateway(clientUrl: string, route: string, body: unknown, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const res = await fetch(`${clientUrl}/v3/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${clientUrl}/v3/${route}: ${res.status} ${text.trim().slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
