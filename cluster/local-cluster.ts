/**
 * A local cluster of tsetcd processes on free loopback ports, for people and for tests.
 * `npm run cluster -- --size 3` starts it, prints the endpoints and an etcdctl line, and stops
 * every member it started (by PID) on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The member's entry point as TypeScript, run through tsx (tests: nothing to build first). */
export const TSETCD_ENTRY = path.join(HERE, '../src/cli/tsetcd.ts');
/** The built entry point (`npm run build`), run by plain node as `npm start` does. */
export const TSETCD_BUILT_ENTRY = path.join(HERE, '../dist/src/cli/tsetcd.js');

export interface MemberSpec {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

export interface LocalMember extends MemberSpec {
  process: ChildProcess | undefined;
  /** Extra flags this member starts with. */
  readonly flags: string[];
  readonly logFile: string;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface ClusterOptions {
  readonly size: number;
  readonly baseDir?: string;
  readonly token?: string;
  /** Extra flags for every member (e.g. ['--snapshot-count', '100']). */
  readonly flags?: readonly string[];
  /** Where member output goes: 'inherit' prints it, 'file' writes <dataDir>.log. */
  readonly output?: 'inherit' | 'file';
  /** Extra arguments for node itself (e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment for the members (e.g. TSETCD_TEST_HOOKS). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run the built member (TSETCD_BUILT_ENTRY) with plain node, as users run it, instead of the
   * sources through tsx, whose transform adds work of its own (a `__name` call for every
   * closure made). The caller builds first: benchmarks, which must measure what ships.
   */
  readonly built?: boolean;
}

export class LocalCluster {
  readonly members: LocalMember[] = [];
  private logs = new Map<string, WriteStream>();

  private constructor(
    readonly baseDir: string,
    readonly token: string,
    private readonly output: 'inherit' | 'file',
    private readonly nodeArgs: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly built: boolean,
  ) {}

  static async create(opts: ClusterOptions): Promise<LocalCluster> {
    const baseDir = opts.baseDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tsetcd-cluster-')));
    await mkdir(baseDir, { recursive: true });
    const c = new LocalCluster(baseDir, opts.token ?? `tsetcd-${path.basename(baseDir)}`, opts.output ?? 'file', opts.nodeArgs ?? [], opts.env ?? {}, opts.built ?? false);
    for (let i = 1; i <= opts.size; i++) {
      const name = `m${i}`;
      c.members.push({
        name,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: path.join(baseDir, `${name}.tsetcd`),
        process: undefined,
        flags: [...(opts.flags ?? [])],
        logFile: path.join(baseDir, `${name}.log`),
      });
    }
    return c;
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  initialCluster(): string {
    return this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  }

  argsFor(m: LocalMember, state: 'new' | 'existing' = 'new', initialCluster = this.initialCluster()): string[] {
    return [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--initial-cluster-token', this.token,
      ...m.flags,
    ];
  }

  start(m: LocalMember, state: 'new' | 'existing' = 'new', initialCluster?: string): void {
    if (m.process && m.process.exitCode === null && m.process.signalCode === null) return;
    const entry = this.built ? [TSETCD_BUILT_ENTRY] : ['--import', 'tsx', TSETCD_ENTRY];
    const child = spawn(process.execPath, [...this.nodeArgs, ...entry, ...this.argsFor(m, state, initialCluster)], {
      env: { ...process.env, ...this.env },
      stdio: this.output === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    });
    if (this.output === 'file') {
      let log = this.logs.get(m.name);
      if (!log) {
        log = createWriteStream(m.logFile, { flags: 'a' });
        this.logs.set(m.name, log);
      }
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
    }
    m.process = child;
  }

  startAll(): void {
    for (const m of this.members) this.start(m);
  }

  /** Stop a member we started, by its PID. */
  async kill(m: LocalMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = m.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await exited;
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m, signal)));
    for (const log of this.logs.values()) log.end();
    this.logs.clear();
  }

  addMemberSpec(): Promise<LocalMember> {
    return (async () => {
      const name = `m${this.members.length + 1}`;
      const m: LocalMember = {
        name,
        clientUrl: `http://127.0.0.1:${await freePort()}`,
        peerUrl: `http://127.0.0.1:${await freePort()}`,
        dataDir: path.join(this.baseDir, `${name}.tsetcd`),
        process: undefined,
        flags: [...(this.members[0]?.flags ?? [])],
        logFile: path.join(this.baseDir, `${name}.log`),
      };
      this.members.push(m);
      return m;
    })();
  }
}

async function main(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: { size: { type: 'string', default: '3' }, 'data-dir': { type: 'string' }, quiet: { type: 'boolean', default: false } },
  });
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 1 || size > 9) throw new Error('--size must be 1..9');
  const c = await LocalCluster.create({
    size,
    ...(values['data-dir'] ? { baseDir: values['data-dir'] } : {}),
    output: values.quiet ? 'file' : 'inherit',
  });
  c.startAll();
  console.log(`tsetcd cluster of ${size} in ${c.baseDir}`);
  for (const m of c.members) console.log(`  ${m.name}: client ${m.clientUrl}  peer ${m.peerUrl}  pid ${m.process?.pid}`);
  console.log(`\netcdctl --endpoints=${c.endpoints.join(',')} member list -w table\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('stopping the cluster...');
    void c.stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
