import { randomInt } from 'node:crypto';
import { access, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import { Level } from 'level';
import { catalog, EtcdError, isEtcdError, type ErrorCode } from '../errors.js';
import { MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from '../lease/index.js';
import { MvccStore, checkDeleteRangeRequest, checkPutRequest, checkTxnRequest, isTxnReadOnly, type Event, type KeyValue } from '../mvcc/index.js';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  RaftError,
  RawNode,
  SnapshotStatus,
  StateType,
  decodeConfChange,
  type ConfState,
  type Entry,
  type Message,
  type Ready,
} from '../raft/index.js';
import { boundTcpNetwork, Transport } from '../transport/index.js';
import { assert } from '../util/assert.js';
import { Prng } from '../util/prng.js';
import { WatchHub } from '../watch/index.js';
import type { ServerConfig } from './config.js';
import { computeClusterId, computeMemberId, idToHex, RequestIdGenerator } from './ids.js';
import { Membership } from './membership.js';
import { prefixEnd } from './concurrency.js';
import { LeaseTable } from './leases.js';
import { PeerClient } from './peer-client.js';
import { DiskRaftStorage } from './raft-storage.js';
import { decodeConfContext, decodeRequest, decodeValue, encodeConfContext, encodeRequest, encodeValue, type InternalRequest } from './requests.js';
import type {
  CompactResult,
  DeleteRangeResult,
  HashKVResult,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseLeasesResult,
  LeaseTimeToLiveResult,
  Member,
  MemberChangeResult,
  MemberListResult,
  MemberService,
  MemberWatchStream,
  PutResult,
  RangeCall,
  RangeResult,
  ResponseHeader,
  StatusResult,
  TxnCall,
  TxnResult,
} from './service.js';
import { WaitRegistry } from './wait.js';
import { SyncRecordingFs, type TestHooks } from './test-hooks.js';
import { ServerWatchStream } from './watch-stream.js';
import { nodeFs } from '../wal/fs.js';

export const SERVER_VERSION = '3.4.0';

/** etcd refuses new proposals when apply lags commit by more than this many entries. */
const MAX_GAP_BETWEEN_APPLY_AND_COMMIT = 5000;
/** Raft ticks per heartbeat interval (see start()). */
const TICKS_PER_HEARTBEAT = 10;
/** A ReadIndex request not answered within this long is sent again. */
const READ_INDEX_RETRY_MS = 500;
/** Bytes of key-value pairs per frame of a database snapshot sent to a follower. */
const DB_SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** How often the leader looks for expired leases (etcd: 500 ms). */
const LEASE_TICK_MS = 500;
/** Expired leases revoked per lease tick (etcd's leaseRevokeRate is 1,000/s). */
const LEASE_REVOKES_PER_TICK = 500;
/** Keep-alives a follower forwards in one request at most (ids in the path: ~9 KiB). */
const MAX_FORWARDED_KEEPALIVES = 512;
/** How often slow watchers (victims) are offered their responses again. */
const WATCH_RETRY_MS = 100;
/** Responses buffered per watch stream before watchers are held aside (etcd's chanBufLen). */
const WATCH_STREAM_BUFFER = 128;
/** Entries applied in one MVCC apply group (one LevelDB batch) at most. */
const MAX_APPLY_GROUP = 1000;
/** A lease id is a positive int64 (etcd masks its request id the same way). */
const INT63_MASK = (1n << 63n) - 1n;
/** Written with sync before a snapshot releases WAL segments (outside mvcc's prefixes). */
const DB_SYNC_KEY = Buffer.from('\x00synced-index');

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface ReadRound {
  readonly ctx: Uint8Array;
  readonly key: string;
  readonly waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

/**
 * One tsetcd member: raft driven by ticks, the transport and client requests; Readies made
 * durable in the WAL and applied to the MVCC store; results handed back to waiting requests.
 *
 * The Ready loop runs one Ready at a time, in raft's order: leader messages go out at once;
 * the WAL fsync follows (one fsync for the whole Ready); then the other messages; then the
 * committed entries are applied (one LevelDB batch each, carrying the consistent index);
 * then advance().
 */
export class EtcdServer implements MemberService {
  readonly limits: { maxRequestBytes: number; maxTxnOps: number };
  memberId = 0n;
  clusterId = 0n;

  private node!: RawNode;
  private storage!: DiskRaftStorage;
  private db!: Level<Buffer, Buffer>;
  private store!: MvccStore;
  private transport!: Transport;
  private readonly membership = new Membership();
  private leases!: LeaseTable;
  private hub!: WatchHub;
  private readonly watchStreams = new Set<ServerWatchStream>();
  private watchSyncing = false;
  /** Set when this member became leader: leases are promoted once it applied up to here. */
  private promoteAtIndex: number | undefined;
  private readonly promoteWaiters: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  /** Committed entries handed over by the Ready loop, applied in order by applyLoop. */
  private readonly applyQueue: Entry[] = [];
  private applying: Promise<void> | undefined;
  private applyFailure: unknown;
  /** The events of the entry being applied in a group (see published). */
  private appliedEvents: readonly Event[] = [];
  private peerClient!: PeerClient;
  private readonly waits = new WaitRegistry<Outcome>();
  /** Keep-alives a follower forwards to the leader in one request (see forwardKeepAlive). */
  private keepAliveBatch: { readonly ids: bigint[]; readonly ttls: Promise<number[]> } | undefined;
  private ids!: RequestIdGenerator;
  private confState: ConfState = { voters: [], learners: [] };

  private appliedIndex = 0;
  private snapshotIndex = 0;
  private lead = NONE;
  private ticker: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  /** Why this member stopped by itself (e.g. it was removed), for the process to report. */
  stopReason: string | undefined;

  private peerHttp: HttpServer | undefined;
  private readRound: ReadRound | undefined;
  private pendingReads: ReadRound['waiters'] = [];
  private readCounter = 0;
  private readonly appliedWaiters: { index: number; resolve: () => void }[] = [];
  private readonly leaderWaiters: (() => void)[] = [];

  constructor(private readonly cfg: ServerConfig) {
    this.limits = { maxRequestBytes: cfg.maxRequestBytes, maxTxnOps: cfg.maxTxnOps };
    this.stopped = new Promise((r) => (this.resolveStopped = r));
  }

  private get memberDir(): string {
    return path.join(this.cfg.dataDir, 'member');
  }

  // --- start and stop ---------------------------------------------------------------------------

  async start(): Promise<void> {
    const log = this.cfg.logger;
    await mkdir(this.memberDir, { recursive: true });
    // The member's identity lives in the WAL's metadata, never in the replicated database (a
    // snapshot from the leader replaces that). A fresh member works it out first: from the
    // initial cluster for a new cluster, from the running members when joining one.
    const walDir = path.join(this.memberDir, 'wal');
    if ((await exists(walDir)) && !(await readdir(walDir)).some((f) => f.endsWith('.wal'))) {
      // The WAL is where the member's identity and log live. Without a segment, a member that
      // never got further (a crash while creating it) starts afresh; one that has applied data
      // has lost its log, and starting over could vote twice in a term: refuse.
      if (await exists(path.join(this.memberDir, 'db', 'CURRENT'))) {
        throw new Error(`${walDir} holds no WAL segment but the member has a database: its log is lost; restore it, or remove the member and add it again with an empty data dir`);
      }
      await rm(walDir, { recursive: true, force: true });
    }
    const fresh = !(await exists(walDir));
    let joined: { memberId: bigint; clusterId: bigint; members: Member[] } | undefined;
    let identity: { memberId: bigint; clusterId: bigint };
    if (!fresh) identity = { memberId: 0n, clusterId: 0n };
    else if (this.cfg.initialClusterState === 'existing') identity = joined = await this.discoverFromPeers();
    else identity = this.identityForNewCluster();
    const hooks = this.cfg.testHooks;
    const fs = hooks ? new SyncRecordingFs(nodeFs, SyncRecordingFs.recordPath(this.memberDir), hooks.bug('ack-before-fsync')) : undefined;
    const opened = await DiskRaftStorage.open(this.memberDir, encodeValue(identity), { logger: log, ...(fs ? { fs } : {}) });
    this.storage = opened.storage;
    ({ memberId: this.memberId, clusterId: this.clusterId } = decodeValue<{ memberId: bigint; clusterId: bigint }>(opened.metadata));
    await this.removeStaleSnapshotDbs();
    this.db = new Level<Buffer, Buffer>(path.join(this.memberDir, 'db'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await this.db.open();

    if (this.storage.lastIndex() === 0) {
      // Fresh (or a crash before the first snapshot was written): start the same way again.
      if (joined) await this.persistMembers(joined.members);
      else if (this.cfg.initialClusterState === 'new') await this.bootstrapNew();
      log.info('starting a new member', { memberId: idToHex(this.memberId), clusterId: idToHex(this.clusterId), joining: joined !== undefined });
    } else {
      log.info('restarting member from its data directory', { memberId: idToHex(this.memberId), clusterId: idToHex(this.clusterId) });
    }
    await this.openStore();
    // Watchers read history from whichever store is current (a snapshot from the leader replaces it).
    const store = (): MvccStore => this.store;
    this.hub = new WatchHub({
      history: {
        get compactRev() {
          return store().compactRev;
        },
        get currentRev() {
          return store().currentRev;
        },
        eventsBetween: (from, to, limit) => store().eventsBetween(from, to, limit),
      },
    });
    this.confState = this.storage.initialState().confState;
    this.snapshotIndex = this.storage.firstIndex() - 1;
    // Entries after the raft snapshot are handed out again: their MVCC effects are skipped by
    // the consistent index, but configuration changes must reach raft again.
    this.appliedIndex = this.snapshotIndex;
    this.ids = new RequestIdGenerator(this.memberId, Date.now());
    // Raft's clock ticks TICKS_PER_HEARTBEAT times per heartbeat interval. Heartbeats still go
    // every --heartbeat-interval and elections time out in [--election-timeout, 2x), but the
    // random draw has 100 values instead of 10: with one tick per heartbeat, two followers of a
    // dead leader drew the same timeout one time in ten, split the vote, and failover took a
    // second election timeout more.
    const tickMs = this.tickMs();
    const electionTick = Math.max(2 * TICKS_PER_HEARTBEAT, Math.round(this.cfg.electionMs / tickMs));
    this.node = new RawNode({
      id: this.memberId,
      electionTick,
      heartbeatTick: TICKS_PER_HEARTBEAT,
      storage: this.storage,
      prng: new Prng(randomInt(2 ** 31)),
      applied: this.appliedIndex,
      checkQuorum: true,
      preVote: true,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 512,
      logger: log,
    });

    const sourceAddress = this.cfg.testHooks?.peerSourceAddress;
    this.peerClient = new PeerClient(sourceAddress);
    this.transport = new Transport({
      id: this.memberId,
      clusterId: this.clusterId,
      listenPeerUrls: [...this.cfg.listenPeerUrls],
      onMessages: (msgs) => this.onPeerMessages(msgs as Message[]),
      onSnapshot: (header, body) => this.onPeerSnapshot(header as Message, body),
      onHttp: (socket) => this.servePeerHttp(socket),
      onUnreachable: (id) => {
        this.node.reportUnreachable(id);
        this.kick();
      },
      logger: log,
    }, sourceAddress !== undefined ? { network: boundTcpNetwork(sourceAddress) } : {});
    // Peers first: the listener refuses handshakes from members it does not know.
    for (const m of this.membership.list()) if (m.id !== this.memberId) this.transport.addPeer(m.id, [...m.peerURLs]);
    await this.transport.start();

    this.running = true;
    this.ticker = setInterval(() => {
      this.node.tick();
      this.kick();
    }, tickMs);
    this.timers = [
      setInterval(() => this.leaseTick(), LEASE_TICK_MS),
      setInterval(() => this.scheduleWatchSync(), WATCH_RETRY_MS),
      setInterval(() => {
        for (const s of this.watchStreams) s.progressRound();
      }, this.cfg.watchProgressNotifyMs),
    ];
    this.loopDone = this.readyLoop().catch((e: unknown) => {
      log.error('ready loop failed; stopping the member', { error: String(e instanceof Error ? (e.stack ?? e.message) : e) });
      this.stopReason = `fatal: ${String(e)}`;
      void this.stop();
    });
    void this.publishAttributes();
  }

  /** Resolves when the member has stopped (by stop(), or by itself). */
  whenStopped(): Promise<void> {
    return this.stopped;
  }

  async stop(): Promise<void> {
    if (!this.running) return this.stopped;
    this.running = false;
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearInterval(t);
    this.kick();
    await this.loopDone;
    await this.applyIdle().catch(() => {});
    for (const s of [...this.watchStreams]) s.close();
    // A proposal in flight may still commit (on the other members): its outcome is unknown, so
    // it fails with Timeout, never with Stopped, which means "not proposed" (checkCanPropose).
    this.waits.failAll(new EtcdError('Timeout'));
    this.failReads(new EtcdError('Stopped'));
    await this.transport.stop();
    this.peerClient.close();
    this.peerHttp?.close();
    await this.store.close();
    await this.db.close();
    await this.storage.close();
    this.resolveStopped();
    return this.stopped;
  }

  private initialMembers(): Member[] {
    const members: Member[] = [];
    for (const [name, urls] of this.cfg.initialCluster) {
      const id = computeMemberId(urls, this.cfg.initialClusterToken);
      if (members.some((m) => m.id === id)) throw new Error(`member ${name} has the same peer URLs as another member`);
      members.push({ id, name: '', peerURLs: [...urls], clientURLs: [], isLearner: false });
    }
    return members;
  }

  private identityForNewCluster(): { memberId: bigint; clusterId: bigint } {
    const cfg = this.cfg;
    const mine = cfg.initialCluster.get(cfg.name);
    if (!mine) throw new Error(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
    if ([...mine].sort().join(',') !== [...cfg.initialAdvertisePeerUrls].sort().join(',')) {
      throw new Error(`--initial-cluster has ${cfg.name}=${mine.join(',')} but missing from --initial-advertise-peer-urls=${cfg.initialAdvertisePeerUrls.join(',')}`);
    }
    return { memberId: computeMemberId(mine, cfg.initialClusterToken), clusterId: computeClusterId(this.initialMembers().map((m) => m.id)) };
  }

  /**
   * Joining an existing cluster (after `member add`): ask the running members for the member
   * list on their peer URLs and find ourselves in it by our advertised peer URLs.
   */
  private async discoverFromPeers(): Promise<{ memberId: bigint; clusterId: bigint; members: Member[] }> {
    const mine = [...this.cfg.initialAdvertisePeerUrls].sort().join(',');
    const errors: string[] = [];
    for (const [name, urls] of this.cfg.initialCluster) {
      if (name === this.cfg.name) continue;
      for (const url of urls) {
        try {
          const res = await fetch(new URL('/members', url), { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const clusterId = BigInt(`0x${res.headers.get('x-etcd-cluster-id') ?? '0'}`);
          const list = (await res.json()) as { id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }[];
          const members: Member[] = list.map((m) => ({ id: BigInt(`0x${m.id}`), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner ?? false }));
          const me = members.find((m) => [...m.peerURLs].sort().join(',') === mine);
          if (!me) throw new Error(`member with peer URLs ${mine} is not in the cluster's member list (add it first with member add)`);
          return { memberId: me.id, clusterId, members };
        } catch (e) {
          errors.push(`${url}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    throw new Error(`cannot fetch the cluster's members from --initial-cluster: ${errors.join('; ')}`);
  }

  /** The initial members of a new cluster, then raft's bootstrap snapshot. */
  private async bootstrapNew(): Promise<void> {
    const members = this.initialMembers();
    await this.persistMembers(members);
    await this.storage.bootstrap({ voters: members.map((m) => m.id), learners: [] });
    this.cfg.logger.info('bootstrapped a new cluster', { members: members.map((m) => idToHex(m.id)) });
  }

  private async persistMembers(members: readonly Member[]): Promise<void> {
    const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
    for (const m of members) {
      const op = this.membership.set(m);
      assert(op.type === 'put');
      ops.push({ type: 'put', key: Buffer.from(op.key), value: Buffer.from(op.value) });
    }
    await this.db.batch(ops);
  }

  /** The peer port's HTTP side: what a joining member asks (etcd's peer `/members`). */
  private servePeerHttp(socket: Socket): void {
    this.peerHttp ??= createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://peer');
      const answer = (p: Promise<unknown>): void => {
        p.then(
          (body) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body ?? {}));
          },
          (e: unknown) => {
            res.writeHead(isEtcdError(e) ? 412 : 500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ code: isEtcdError(e) ? e.code : 'Internal', message: String(e) }));
          },
        );
      };
      // Requests a follower forwards to the leader: a promotion (only the leader knows how far
      // the learner's log has come), and lease keep-alives and TTLs (only it tracks expiry).
      const promote = /^\/members\/promote\/([0-9a-f]{1,16})$/.exec(url.pathname);
      const keepAlive = /^\/leases\/keepalive\/([0-9a-f]{1,16}(?:,[0-9a-f]{1,16})*)$/.exec(url.pathname);
      const ttl = /^\/leases\/ttl\/([0-9a-f]{1,16})$/.exec(url.pathname);
      if (req.method === 'POST' && promote) {
        answer(this.memberPromote(BigInt(`0x${promote[1] as string}`)).then(() => ({})));
      } else if (req.method === 'POST' && keepAlive) {
        const ids = (keepAlive[1] as string).split(',', MAX_FORWARDED_KEEPALIVES).map((h) => BigInt.asIntN(64, BigInt(`0x${h}`)));
        answer(this.leaderOnly('confirmed', async () => ({ ttls: ids.map((id) => this.renewLease(id)) })));
      } else if (req.method === 'GET' && ttl) {
        const id = BigInt.asIntN(64, BigInt(`0x${ttl[1] as string}`));
        answer(
          this.leaderOnly('applied', async () => {
            const t = this.localTimeToLive(id, url.searchParams.get('keys') === '1');
            return { ttl: t.ttl, grantedTtl: t.grantedTtl, keys: t.keys.map((k) => Buffer.from(k).toString('base64')) };
          }),
        );
      } else if (req.method === 'PUT' && url.pathname.startsWith('/test/') && this.cfg.testHooks) {
        this.serveTestHook(url.pathname, req, res, this.cfg.testHooks);
      } else if (req.method === 'GET' && req.url === '/members') {
        const body = this.membership.list().map((m) => ({ id: idToHex(m.id), name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs, isLearner: m.isLearner }));
        res.writeHead(200, { 'content-type': 'application/json', 'x-etcd-cluster-id': idToHex(this.clusterId) });
        res.end(JSON.stringify(body));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found\n');
      }
    });
    this.peerHttp.emit('connection', socket);
    socket.resume();
  }

  /** Opens MVCC on the database and loads what lives beside it: members and leases. */
  /** PUT /test/failpoints/<name> (body: the action) and PUT /test/clock (JSON), for the harness. */
  private serveTestHook(pathname: string, req: IncomingMessage, res: ServerResponse, hooks: TestHooks): void {
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
  }

  private async openStore(): Promise<void> {
    const hooks = this.cfg.testHooks;
    const clock = { nowMs: hooks ? () => hooks.nowMs() : () => Date.now() };
    const leases = new LeaseTable(clock, minLeaseTtlSeconds(10, this.cfg.electionMs / 10));
    this.store = await MvccStore.open(this.db, {
      logger: this.cfg.logger,
      yieldToEventLoop: () => new Promise((r) => setImmediate(r)),
      leaseExists: (id) => this.leases.lessor.lookup(id) !== undefined,
    });
    this.membership.load(await this.records(Membership.PREFIX));
    // Keys name their lease, so reattaching reads every current key: only when leases exist.
    const leaseRecords = await this.records(LeaseTable.PREFIX);
    const kvs = leaseRecords.length === 0 ? [] : (await this.store.range(Buffer.from([0]), Buffer.from([0]))).kvs;
    leases.load(leaseRecords, kvs);
    this.leases = leases;
  }

  private async records(prefix: Uint8Array): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for await (const [, v] of this.db.iterator({ gte: Buffer.from(prefix), lt: Buffer.from(prefixEnd(prefix)) })) out.push(v);
    return out;
  }

  // --- the Ready loop ---------------------------------------------------------------------------

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async readyLoop(): Promise<void> {
    while (this.running) {
      if (!this.node.hasReady()) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      await this.handleReady(this.node.ready());
      this.node.advance();
      await this.maybeSnapshot();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.state);
    this.sendMessages(rd.leaderMessages);
    for (const rs of rd.readStates) this.onReadState(rs.index, rs.requestCtx);
    const hooks = this.cfg.testHooks;
    if (hooks?.armed) await hooks.hit('beforeWalSave');
    if (rd.mustSync) {
      await this.storage.save(rd);
    } else {
      // Only the commit index moved (no entries, term or vote): like etcd, no fsync for that.
      // Raft learns a lost commit index again from the leader; maybeSnapshot saves the hard
      // state before a snapshot, so a snapshot is never ahead of the commit on disk.
      this.storage.noteHardState(rd.hardState);
    }
    if (hooks?.armed) await hooks.hit('afterWalSave');
    if (rd.snapshot) {
      // The database is replaced: everything before the snapshot must be applied first.
      await this.applyIdle();
      await this.installSnapshot(rd.snapshot.metadata.index);
    }
    this.sendMessages(rd.messages);
    if (rd.committedEntries.length > 0) {
      // Applying runs beside the next Ready's fsync (as etcd's apply goroutine does), except
      // after a configuration change, which raft must see applied before its next Ready.
      this.applyQueue.push(...rd.committedEntries);
      this.startApplying();
      if (rd.committedEntries.some((e) => e.type === EntryType.ConfChange)) await this.applyIdle();
    }
  }

  /** Snapshots travel on their own stream with the database behind them; the rest in batches. */
  private sendMessages(msgs: readonly Message[]): void {
    const plain: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) this.sendSnapshot(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.transport.send(plain);
  }

  private onSoftState(lead: bigint, state: StateType): void {
    if (lead !== this.lead) {
      this.cfg.logger.info('leader changed', { from: idToHex(this.lead), to: idToHex(lead), state, term: this.node.raft.term });
      // Reads waiting on the old leader's round will never be answered: fail them so they retry.
      if (this.readRound && lead !== this.memberId) this.failReads(new EtcdError('LeaderChanged'));
      if (lead === this.memberId) {
        // Leases are taken over once this member applied its own first entry of the term, so
        // it knows every lease and checkpoint its predecessors committed.
        this.promoteAtIndex = this.node.raft.log.lastIndex();
      } else if (this.lead === this.memberId) {
        this.promoteAtIndex = undefined;
        this.leases.lessor.demote();
      }
      this.lead = lead;
      if (lead !== NONE) for (const w of this.leaderWaiters.splice(0)) w();
    }
  }

  private onPeerMessages(msgs: Message[]): void {
    for (const m of msgs) {
      if (m.to !== this.memberId) continue;
      if (this.membership.isRemoved(m.from)) continue;
      this.node.step(m);
    }
    this.kick();
  }

  // --- apply ------------------------------------------------------------------------------------

  /**
   * Starts the apply loop unless it runs. Entries queued while a finishing loop is on its way out
   * (after its last look at the queue, before `applying` is cleared) start a new one, so none is
   * left waiting for the next Ready.
   */
  private startApplying(): void {
    if (this.applying !== undefined) return;
    this.applying = this.applyLoop().finally(() => {
      this.applying = undefined;
      if (this.running && this.applyFailure === undefined && this.applyQueue.length > 0) this.startApplying();
    });
  }

  /** Resolves once every entry handed over so far is applied (rejects if applying failed). */
  private async applyIdle(): Promise<void> {
    while (this.applying !== undefined) await this.applying;
    if (this.applyFailure !== undefined) throw this.applyFailure;
  }

  /**
   * Applies the queued entries in order. A run of client requests is applied as one MVCC apply
   * group, one LevelDB batch for all of them; their results go to the waiting proposers and
   * their events to watchers only once that batch is written. Configuration changes and
   * compactions are applied alone. A failure here is fatal, as one in the Ready loop.
   */
  private async applyLoop(): Promise<void> {
    const hooks = this.cfg.testHooks;
    try {
      while (this.running && this.applyQueue.length > 0) {
        const run = this.takeApplyRun();
        if (run.length === 1 && !isGroupable(run[0] as Entry)) {
          if (hooks?.armed) await hooks.hit('beforeApply');
          await this.applyAlone(run[0] as Entry);
          if (hooks?.armed) await hooks.hit('afterApply');
          continue;
        }
        if (hooks?.armed) await hooks.hit('beforeApply');
        await this.applyGroup(run);
        if (hooks?.armed) await hooks.hit('afterApply');
      }
    } catch (e) {
      // Nobody awaits this loop but applyIdle: keep the failure for it, and stop.
      this.applyFailure = e;
      this.cfg.logger.error('apply failed; stopping the member', { error: String(e instanceof Error ? (e.stack ?? e.message) : e) });
      this.stopReason = `fatal: ${String(e)}`;
      void this.stop();
    }
  }

  /** The next run to apply: one entry that must go alone, or up to MAX_APPLY_GROUP groupable ones. */
  private takeApplyRun(): Entry[] {
    const first = this.applyQueue[0] as Entry;
    if (!isGroupable(first)) return this.applyQueue.splice(0, 1);
    let n = 1;
    while (n < this.applyQueue.length && n < MAX_APPLY_GROUP && isGroupable(this.applyQueue[n] as Entry)) n++;
    return this.applyQueue.splice(0, n);
  }

  private async applyAlone(e: Entry): Promise<void> {
    if (e.type === EntryType.ConfChange) {
      await this.applyConfChange(e);
    } else if (e.data.byteLength > 0 && !this.store.isApplied(e.index)) {
      const req = requestOf(e);
      const outcome = await this.applyOne(req, e.index);
      this.waits.trigger(req.id, outcome);
    }
    this.markApplied(e.index);
  }

  private async applyGroup(entries: readonly Entry[]): Promise<void> {
    const group = this.store.beginGroup();
    const results: { id: bigint; outcome: Outcome; events: readonly Event[] }[] = [];
    for (const e of entries) {
      if (e.data.byteLength === 0 || this.store.isApplied(e.index)) continue; // empty, or applied before a restart
      const req = requestOf(e);
      this.appliedEvents = [];
      const outcome = await this.applyOne(req, e.index);
      results.push({ id: req.id, outcome, events: this.appliedEvents });
    }
    // Readable from here on, while the batch is written (apply-group.ts): watchers and clients
    // may have it now (a watcher catching up from the database waits for the batch). The
    // group's events go to the watchers in one notify, so a watcher gets one response for the
    // group, not one per entry (a burst per entry would overflow its stream's buffer). Marked
    // applied only once written: a snapshot taken at the applied index must find it on disk.
    const written = group.commit();
    const events = results.flatMap((r) => r.events);
    if (events.length > 0) this.hub.notify(events, (events[events.length - 1] as Event).kv.modRevision);
    for (const r of results) this.waits.trigger(r.id, r.outcome);
    await written;
    this.markApplied((entries[entries.length - 1] as Entry).index);
  }

  /** Applies one request; an etcd error is its (failed) outcome, anything else is fatal. */
  private async applyOne(req: InternalRequest, index: number): Promise<Outcome> {
    try {
      return { ok: true, value: await this.applyRequest(req, index) };
    } catch (error) {
      if (!isEtcdError(error)) throw error;
      return { ok: false, error };
    }
  }

  private markApplied(index: number): void {
    this.appliedIndex = index;
    this.releaseApplied();
    if (this.promoteAtIndex !== undefined && this.appliedIndex >= this.promoteAtIndex) this.promoteLeases();
  }

  /** This leader has caught up with its term: it now decides when leases expire. */
  private promoteLeases(): void {
    this.promoteAtIndex = undefined;
    // As etcd: at least an election timeout more, for clients that could not renew meanwhile.
    this.leases.lessor.promote(this.cfg.electionMs);
    for (const w of this.promoteWaiters.splice(0)) w();
    this.cfg.logger.info('took over lease expiry', { leases: this.leases.lessor.size });
  }

  /**
   * Events of the entry being applied: leases follow the keys' lease fields at once (a later
   * entry of the same group may revoke the lease); watchers get them once they are durable.
   */
  private published(events: readonly Event[]): void {
    if (events.length === 0) return;
    this.leases.applyEvents(events);
    if (this.store.inGroup) {
      this.appliedEvents = events;
    } else {
      this.hub.notify(events, this.store.currentRev);
    }
  }

  private async applyRequest(req: InternalRequest, index: number): Promise<unknown> {
    switch (req.op) {
      case 'put': {
        const r = await this.store.put(req.put, index);
        this.published(r.events);
        return r;
      }
      case 'deleteRange': {
        const r = await this.store.deleteRange(req.deleteRange, index);
        this.published(r.events);
        return r;
      }
      case 'txn': {
        const r = await this.store.txn(req.txn, index);
        this.published(r.events);
        return r;
      }
      case 'leaseGrant': {
        const granted = await this.failingWith(index, () => this.leases.grant(req.leaseId, req.ttl));
        await this.store.write().end(index, [granted.op]);
        return { ttl: granted.ttl };
      }
      case 'leaseRevoke': {
        // The lease's keys go in one revision, with the lease's record, as etcd's revoke.
        const keys = await this.failingWith(index, () => this.leases.lessor.keys(req.leaseId));
        const w = this.store.write();
        for (const k of keys) await w.deleteRange(k);
        const events = await w.end(index, [this.leases.revokeOp(req.leaseId)]);
        this.leases.lessor.revoke(req.leaseId);
        this.published(events);
        return {};
      }
      case 'leaseCheckpoint':
        await this.store.write().end(index, this.leases.checkpoint(req.checkpoints));
        return {};
      case 'compaction': {
        if (this.cfg.testHooks?.armed) await this.cfg.testHooks.hit('beforeCompaction');
        const handle = await this.store.compact(req.revision, index);
        if (req.physical) await handle.done;
        return { rev: this.store.currentRev };
      }
      case 'attributes': {
        const m = this.membership.get(req.memberId);
        const ops = m ? [this.membership.set({ ...m, name: req.name, clientURLs: req.clientURLs })] : [];
        await this.store.write().end(index, ops);
        return undefined;
      }
    }
  }

  /**
   * Runs a check of an entry that may fail with an etcd error: then the entry still counts as
   * applied (it fails the same way on every member), so its consistent index is committed first.
   */
  private async failingWith<T>(index: number, fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (e) {
      if (isEtcdError(e)) await this.store.write().end(index);
      throw e;
    }
  }

  private async applyConfChange(e: Entry): Promise<void> {
    const cc = decodeConfChange(e.data);
    const ctx = cc.context && cc.context.byteLength > 0 ? decodeConfContext(cc.context) : undefined;
    this.confState = this.node.applyConfChange(cc);
    if (!this.store.isApplied(e.index)) {
      const ops = [];
      if (cc.type === ConfChangeType.RemoveNode) {
        ops.push(this.membership.remove(cc.nodeId));
      } else if (ctx) {
        const existing = this.membership.get(cc.nodeId);
        const isLearner = cc.type === ConfChangeType.AddLearnerNode;
        ops.push(this.membership.set(existing ? { ...existing, isLearner } : { ...ctx.member, id: cc.nodeId, isLearner }));
      }
      const wt = this.store.write();
      await wt.end(e.index, ops);
    }
    const m = this.membership.get(cc.nodeId);
    if (cc.nodeId !== this.memberId) {
      if (cc.type === ConfChangeType.RemoveNode) this.transport.removePeer(cc.nodeId);
      else if (m) this.transport.addPeer(cc.nodeId, [...m.peerURLs]);
    }
    if (ctx) this.waits.trigger(ctx.requestId, { ok: true, value: { member: m ?? ctx.member } });
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.memberId) {
      this.stopReason = 'the member has been permanently removed from the cluster';
      this.cfg.logger.warn(this.stopReason, { memberId: idToHex(this.memberId) });
      setImmediate(() => void this.stop());
    }
  }

  private releaseApplied(): void {
    if (this.appliedWaiters.length === 0) return;
    for (let i = this.appliedWaiters.length - 1; i >= 0; i--) {
      const w = this.appliedWaiters[i] as { index: number; resolve: () => void };
      if (w.index <= this.appliedIndex) {
        this.appliedWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private waitApplied(index: number): Promise<void> {
    if (index <= this.appliedIndex) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve }));
  }

  // --- snapshots ----------------------------------------------------------------------------------

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.cfg.snapshotCount) return;
    if (this.appliedIndex > this.storage.lastIndex()) return;
    const data = encodeValue(this.membership.dump());
    const hooks = this.cfg.testHooks;
    if (hooks?.armed) await hooks.hit('beforeSnapshotSave');
    // LevelDB does not sync its writes; the WAL behind the snapshot is about to be released, so
    // what it applied must be durable first (a synced write syncs every earlier one).
    await this.db.put(DB_SYNC_KEY, Buffer.from(String(this.appliedIndex)), { sync: true });
    // Commit-only hard states are not saved (handleReady): a restart must not find a snapshot
    // beyond the commit index on disk.
    await this.storage.save({ hardState: this.node.raft.hardState(), entries: [] });
    await this.storage.createSnapshot(this.appliedIndex, this.confState, data, this.cfg.snapshotCatchUpEntries);
    if (hooks?.armed) await hooks.hit('afterSnapshotSave');
    this.snapshotIndex = this.appliedIndex;
    this.cfg.logger.info('saved snapshot', { index: this.snapshotIndex, firstIndex: this.storage.firstIndex() });
  }

  /**
   * Send a raft snapshot with the whole database behind it. The database is read through one
   * LevelDB iterator (a consistent view), so it is at least as new as the raft snapshot; the
   * follower skips re-applying what it already holds by the consistent index inside it.
   */
  private sendSnapshot(m: Message): void {
    const db = this.db;
    async function* body(): AsyncGenerator<Uint8Array> {
      let pairs: Buffer[] = [];
      let bytes = 0;
      for await (const [k, v] of db.iterator()) {
        pairs.push(k, v);
        bytes += k.length + v.length;
        if (bytes >= DB_SNAPSHOT_CHUNK_BYTES) {
          yield encodeValue(pairs);
          pairs = [];
          bytes = 0;
        }
      }
      if (pairs.length > 0) yield encodeValue(pairs);
    }
    this.cfg.logger.info('sending database snapshot', { to: idToHex(m.to), index: m.snapshot?.metadata.index });
    this.transport
      .sendSnapshot(m.to, m, body())
      .then(() => this.node.reportSnapshot(m.to, SnapshotStatus.Finish))
      .catch((e: unknown) => {
        this.cfg.logger.warn('sending snapshot failed', { to: idToHex(m.to), error: String(e) });
        this.node.reportSnapshot(m.to, SnapshotStatus.Failure);
      })
      .finally(() => this.kick());
  }

  private stagedDbDir(index: number): string {
    return path.join(this.memberDir, `db.incoming-${index}`);
  }

  /** A leader's snapshot arrives: stage its database, then hand the message to raft. */
  private async onPeerSnapshot(header: Message, body: AsyncIterable<Uint8Array>): Promise<void> {
    const index = header.snapshot?.metadata.index ?? 0;
    assert(index > 0, 'snapshot message without a snapshot');
    const dir = this.stagedDbDir(index);
    await rm(dir, { recursive: true, force: true });
    const staged = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await staged.open();
    try {
      for await (const chunk of body) {
        const pairs = decodeValue<Uint8Array[]>(chunk);
        const ops: { type: 'put'; key: Buffer; value: Buffer }[] = [];
        for (let i = 0; i + 1 < pairs.length; i += 2) ops.push({ type: 'put', key: Buffer.from(pairs[i] as Uint8Array), value: Buffer.from(pairs[i + 1] as Uint8Array) });
        await staged.batch(ops);
      }
    } finally {
      await staged.close();
    }
    this.node.step(header);
    this.kick();
  }

  /** Raft accepted a snapshot: replace the database with the staged one and reload. */
  private async installSnapshot(index: number): Promise<void> {
    const hooks = this.cfg.testHooks;
    if (hooks?.armed) await hooks.hit('beforeSnapshotInstall');
    const dir = this.stagedDbDir(index);
    await stat(dir);
    await this.store.close();
    await this.db.close();
    const live = path.join(this.memberDir, 'db');
    await rm(`${live}.old`, { recursive: true, force: true });
    await rename(live, `${live}.old`);
    await rename(dir, live);
    await rm(`${live}.old`, { recursive: true, force: true });
    this.db = new Level<Buffer, Buffer>(live, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await this.db.open();
    await this.openStore();
    this.hub.restore(this.store.currentRev);
    this.scheduleWatchSync();
    this.confState = this.node.raft.trk.confState();
    this.appliedIndex = index;
    this.snapshotIndex = index;
    for (const m of this.membership.list()) if (m.id !== this.memberId) this.transport.addPeer(m.id, [...m.peerURLs]);
    this.cfg.logger.info('installed database snapshot', { index, consistentIndex: this.store.consistentIndex(), revision: this.store.currentRev });
    if (hooks?.armed) await hooks.hit('afterSnapshotInstall');
  }

  private async removeStaleSnapshotDbs(): Promise<void> {
    for (const name of await readdir(this.memberDir)) {
      if (name.startsWith('db.incoming-') || name === 'db.old') await rm(path.join(this.memberDir, name), { recursive: true, force: true });
    }
  }

  // --- proposals and reads ------------------------------------------------------------------------

  private tickMs(): number {
    return Math.max(1, this.cfg.heartbeatMs / TICKS_PER_HEARTBEAT);
  }

  private requestTimeoutMs(): number {
    return 5000 + 2 * this.cfg.electionMs;
  }

  /** Like etcd, a learner serves only serializable reads (and member and status calls). */
  private refuseOnLearner(): void {
    if (this.membership.get(this.memberId)?.isLearner === true) throw new EtcdError('NotSupportedForLearner');
  }

  private checkCanPropose(): void {
    if (!this.running) throw new EtcdError('Stopped');
    if (this.lead === NONE) throw new EtcdError('NoLeader');
    const st = this.node.raft.log;
    if (st.committed - this.appliedIndex > MAX_GAP_BETWEEN_APPLY_AND_COMMIT) throw new EtcdError('TooManyRequests');
  }

  /** Propose a request, then wait until this member applies the entry. */
  private propose(make: (id: bigint) => InternalRequest): Promise<unknown> {
    return this.proposeAndWait((id) => this.node.propose(encodeRequest(make(id))));
  }

  private proposeConfChange(type: ConfChangeType, nodeId: bigint, member: Member): Promise<unknown> {
    return this.proposeAndWait((requestId) => {
      const context = encodeConfContext({ requestId, member: { ...member, peerURLs: [...member.peerURLs], clientURLs: [...member.clientURLs] } });
      this.node.proposeConfChange({ type, nodeId, context });
    });
  }

  /**
   * Register a waiter under a fresh request id, hand the proposal to raft, and wait for the apply
   * loop to trigger the id. Raft refusing the proposal is a definite failure (NoLeader: it was
   * never proposed); a timeout after proposing is not (the entry may still commit).
   */
  private async proposeAndWait(doPropose: (id: bigint) => void): Promise<unknown> {
    this.checkCanPropose();
    const id = this.ids.nextId();
    const done = this.waits.register(id);
    try {
      doPropose(id);
    } catch (e) {
      this.waits.fail(id, e);
      await done.catch(() => {});
      if (e instanceof RaftError && e.code === 'ProposalDropped') throw new EtcdError('NoLeader', { cause: e });
      throw e;
    }
    this.kick();
    const outcome = await withTimeout(done, this.requestTimeoutMs(), () => this.waits.fail(id, new EtcdError('Timeout')));
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Wait until a read started now may be served locally: a ReadIndex round confirms this
   * member's view of the commit index with the leader's quorum, then we wait to apply up to it.
   * Reads arriving while a round is in flight share the next round.
   */
  private linearizableRead(): Promise<void> {
    if (!this.running) return Promise.reject(new EtcdError('Stopped'));
    if (this.cfg.testHooks?.bug('read-without-readindex')) return Promise.resolve();
    if (this.lead === NONE) return Promise.reject(new EtcdError('NoLeader'));
    return new Promise<void>((resolve, reject) => {
      this.pendingReads.push({ resolve, reject });
      this.startReadRound();
    });
  }

  private startReadRound(): void {
    if (this.readRound || this.pendingReads.length === 0) return;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, BigInt(++this.readCounter));
    const round: ReadRound = { ctx, key: String(this.readCounter), waiters: this.pendingReads };
    this.pendingReads = [];
    this.readRound = round;
    this.node.readIndex(ctx);
    this.kick();
    // The request or its answer may be lost on the way to or from the leader: ask again (same
    // context) every READ_INDEX_RETRY_MS, like etcd, until answered or timed out.
    const deadline = Date.now() + this.requestTimeoutMs();
    const retry = setInterval(() => {
      if (this.readRound !== round || !this.running) {
        clearInterval(retry);
      } else if (Date.now() >= deadline) {
        clearInterval(retry);
        this.readRound = undefined;
        for (const w of round.waiters) w.reject(new EtcdError('Timeout'));
        this.startReadRound();
      } else if (this.lead !== NONE) {
        this.node.readIndex(ctx);
        this.kick();
      }
    }, READ_INDEX_RETRY_MS);
    retry.unref();
  }

  private onReadState(index: number, ctx: Uint8Array): void {
    const round = this.readRound;
    if (!round || ctx.byteLength !== 8 || new DataView(ctx.buffer, ctx.byteOffset, 8).getBigUint64(0) !== BigInt(round.key)) return;
    this.readRound = undefined;
    void this.waitApplied(index).then(() => {
      for (const w of round.waiters) w.resolve();
    });
    this.startReadRound();
  }

  private failReads(err: unknown): void {
    const waiters = [...(this.readRound?.waiters ?? []), ...this.pendingReads];
    this.readRound = undefined;
    this.pendingReads = [];
    for (const w of waiters) w.reject(err);
  }

  private header(revision: number = this.store.currentRev): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.node.raft.term };
  }

  // --- MemberService --------------------------------------------------------------------------------

  async range(req: RangeCall): Promise<RangeResult> {
    if (!req.serializable) {
      this.refuseOnLearner();
      await this.linearizableRead();
    }
    const { serializable: _s, key, rangeEnd, ...opts } = req;
    const r = await this.store.range(key, rangeEnd, opts);
    return { header: this.header(r.rev), kvs: r.kvs, more: r.more, count: r.count };
  }

  // Requests are checked before they are proposed (as etcd's v3rpc layer does), so a request
  // that can only fail costs no raft round; apply checks again, as a member must not trust a log.
  async put(req: Parameters<MemberService['put']>[0]): Promise<PutResult> {
    this.refuseOnLearner();
    checkPutRequest(req);
    const r = (await this.propose((id) => ({ id, op: 'put', put: req }))) as { rev: number; prevKv?: KeyValue };
    return { header: this.header(r.rev), ...(r.prevKv ? { prevKv: r.prevKv } : {}) };
  }

  async deleteRange(req: Parameters<MemberService['deleteRange']>[0]): Promise<DeleteRangeResult> {
    this.refuseOnLearner();
    checkDeleteRangeRequest(req);
    const r = (await this.propose((id) => ({ id, op: 'deleteRange', deleteRange: req }))) as { rev: number; deleted: number; prevKvs?: KeyValue[] };
    return { header: this.header(r.rev), deleted: r.deleted, prevKvs: r.prevKvs ?? [] };
  }

  async txn(req: TxnCall): Promise<TxnResult> {
    this.refuseOnLearner();
    checkTxnRequest(req, this.limits.maxTxnOps);
    if (isTxnReadOnly(req)) {
      await this.linearizableRead();
      const r = await this.store.txn(req);
      return { header: this.header(r.rev), succeeded: r.succeeded, responses: r.responses };
    }
    const r = (await this.propose((id) => ({ id, op: 'txn', txn: req }))) as { rev: number; succeeded: boolean; responses: TxnResult['responses'] };
    return { header: this.header(r.rev), succeeded: r.succeeded, responses: r.responses };
  }

  async compact(revision: number, physical: boolean): Promise<CompactResult> {
    this.refuseOnLearner();
    const r = (await this.propose((id) => ({ id, op: 'compaction', revision, physical }))) as { rev: number };
    return { header: this.header(r.rev) };
  }

  async memberList(linearizable: boolean): Promise<MemberListResult> {
    if (linearizable) await this.linearizableRead();
    return { header: this.header(), members: this.membership.list() };
  }

  async memberAdd(peerURLs: readonly string[], isLearner: boolean): Promise<MemberChangeResult> {
    if (peerURLs.length === 0) throw new EtcdError('MemberBadURLs');
    for (const m of this.membership.list()) {
      if (m.peerURLs.some((u) => peerURLs.includes(u))) throw new EtcdError('PeerURLExist');
    }
    if (isLearner && this.membership.list().filter((m) => m.isLearner).length >= 1) throw new EtcdError('TooManyLearners');
    const id = computeMemberId(peerURLs, this.cfg.initialClusterToken, Date.now());
    const member: Member = { id, name: '', peerURLs: [...peerURLs], clientURLs: [], isLearner };
    await this.proposeConfChange(isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, id, member);
    return { header: this.header(), member: this.membership.get(id) ?? member, members: this.membership.list() };
  }

  async memberRemove(id: bigint): Promise<MemberChangeResult> {
    const m = this.membership.get(id);
    if (!m) throw new EtcdError('MemberNotFound');
    await this.proposeConfChange(ConfChangeType.RemoveNode, id, m);
    return { header: this.header(), members: this.membership.list() };
  }

  async memberUpdate(id: bigint, peerURLs: readonly string[]): Promise<MemberChangeResult> {
    const m = this.membership.get(id);
    if (!m) throw new EtcdError('MemberNotFound');
    for (const o of this.membership.list()) {
      if (o.id !== id && o.peerURLs.some((u) => peerURLs.includes(u))) throw new EtcdError('PeerURLExist');
    }
    // Re-adding an existing member with its new URLs updates it in place.
    const updated: Member = { ...m, peerURLs: [...peerURLs] };
    await this.proposeConfChange(m.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, id, updated);
    return { header: this.header(), members: this.membership.list() };
  }

  async memberPromote(id: bigint): Promise<MemberChangeResult> {
    const m = this.membership.get(id);
    if (!m) throw new EtcdError('MemberNotFound');
    if (!m.isLearner) throw new EtcdError('MemberNotLearner');
    if (this.lead === NONE) throw new EtcdError('NoLeader');
    if (this.lead !== this.memberId) return this.forwardPromote(id);
    // Like etcd: a learner is ready when its log has at least 90% of the leader's.
    const progress = this.node.status().progress;
    const leaderMatch = progress.get(this.memberId)?.match ?? 0;
    const learnerMatch = progress.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * 0.9) throw new EtcdError('LearnerNotReady');
    await this.proposeConfChange(ConfChangeType.AddNode, id, { ...m, isLearner: false });
    return { header: this.header(), members: this.membership.list() };
  }

  /** etcd forwards a promotion from a follower to the leader; so do we, over the peer port. */
  private async forwardPromote(id: bigint): Promise<MemberChangeResult> {
    await this.forwardToLeader('POST', `/members/promote/${idToHex(id)}`);
    // The leader applied the promotion; wait until this member has too, so the list is current.
    await this.linearizableRead();
    return { header: this.header(), members: this.membership.list() };
  }

  /** A request to the leader's peer port (see servePeerHttp); its etcd error is thrown here. */
  private async forwardToLeader<T>(method: 'GET' | 'POST', pathAndQuery: string): Promise<T> {
    const url = this.membership.get(this.lead)?.peerURLs[0];
    if (this.lead === NONE || url === undefined) throw new EtcdError('NoLeader');
    let res: { status: number; body: unknown };
    try {
      res = await this.peerClient.request(url, method, pathAndQuery, this.requestTimeoutMs());
    } catch (e) {
      throw new EtcdError('Timeout', { cause: e });
    }
    const body = res.body as T & { code?: string };
    if (res.status !== 200) {
      const code = body.code;
      throw code !== undefined && isErrorCode(code) ? new EtcdError(code) : new EtcdError('Timeout');
    }
    return body;
  }

  /** A forwarded lease request reached a member that is no longer the leader: the sender retries. */
  private async leaderOnly<T>(check: 'applied' | 'confirmed', fn: () => Promise<T>): Promise<T> {
    if (!(await this.leadingLeases(check))) throw new EtcdError('NotLeader');
    return fn();
  }

  async status(): Promise<StatusResult> {
    const st = this.node.status();
    // LevelDB reuses freed space itself: what is on disk is what is in use.
    const dbSize = await dirSize(path.join(this.memberDir, 'db'));
    return {
      header: this.header(),
      version: SERVER_VERSION,
      dbSize,
      dbSizeInUse: dbSize,
      leader: st.lead,
      raftIndex: st.commit,
      raftTerm: st.term,
      raftAppliedIndex: this.appliedIndex,
      errors: [],
      isLearner: this.membership.get(this.memberId)?.isLearner ?? false,
    };
  }

  async hashKV(revision: number): Promise<HashKVResult> {
    const h = await this.store.hashKV(revision);
    return { header: this.header(), hash: h.hash, compactRevision: h.compactRevision };
  }

  async moveLeader(targetId: bigint): Promise<{ header: ResponseHeader }> {
    if (this.lead !== this.memberId) throw new EtcdError('NotLeader');
    const target = this.membership.get(targetId);
    if (!target || target.isLearner || targetId === this.memberId) throw new EtcdError('BadLeaderTransferee');
    this.node.transferLeadership(targetId);
    this.kick();
    const deadline = Date.now() + this.requestTimeoutMs();
    while (this.lead !== targetId) {
      const left = deadline - Date.now();
      if (left <= 0) throw new EtcdError('TimeoutDueToLeaderFail');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.leaderWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return { header: this.header() };
  }

  // --- watch ----------------------------------------------------------------------------------------

  watch(): MemberWatchStream {
    // etcd refuses every stream on a learner.
    this.refuseOnLearner();
    if (!this.running) throw new EtcdError('Stopped');
    const stream: ServerWatchStream = new ServerWatchStream({
      hub: this.hub,
      header: (rev) => this.header(rev),
      kvAt: async (key, rev) => (await this.store.range(key, undefined, { revision: rev })).kvs[0],
      maxResponseBytes: this.cfg.maxRequestBytes,
      maxQueued: WATCH_STREAM_BUFFER,
      wantSync: () => this.scheduleWatchSync(),
      onClose: () => this.watchStreams.delete(stream),
      ...(this.cfg.testHooks ? { hooks: this.cfg.testHooks } : {}),
    });
    this.watchStreams.add(stream);
    return stream;
  }

  /**
   * Catches unsynced watchers up from history, one bounded round after another, yielding to the
   * event loop in between; victims are retried here too (every WATCH_RETRY_MS by a timer).
   */
  private scheduleWatchSync(): void {
    if (this.watchSyncing || !this.running || !this.hub.pending) return;
    this.watchSyncing = true;
    void (async () => {
      try {
        while (this.running && this.hub.pending) {
          await this.hub.syncOnce();
          for (const s of this.watchStreams) s.answerProgressRequest();
          // Only victims left: their streams are full; the timer offers again later.
          if (this.hub.stats().unsynced === 0) break;
          await new Promise((r) => setImmediate(r));
        }
      } catch (e) {
        this.cfg.logger.warn('watch sync failed; retrying', { error: String(e) });
      } finally {
        this.watchSyncing = false;
      }
    })();
  }

  // --- leases ----------------------------------------------------------------------------------------

  async leaseGrant(ttlSeconds: number, id: bigint): Promise<LeaseGrantResult> {
    this.refuseOnLearner();
    // As etcd's API layer: refused before proposing (the apply checks again).
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new EtcdError('LeaseTTLTooLarge');
    let leaseId = id;
    while (leaseId === 0n) leaseId = this.ids.nextId() & INT63_MASK;
    const r = (await this.propose((rid) => ({ id: rid, op: 'leaseGrant', leaseId, ttl: ttlSeconds }))) as { ttl: number };
    return { header: this.header(), id: leaseId, ttl: r.ttl };
  }

  async leaseRevoke(id: bigint): Promise<{ header: ResponseHeader }> {
    this.refuseOnLearner();
    await this.propose((rid) => ({ id: rid, op: 'leaseRevoke', leaseId: id }));
    return { header: this.header() };
  }

  async leaseKeepAlive(id: bigint): Promise<LeaseKeepAliveResult> {
    this.refuseOnLearner();
    // A renewal lives in the leader's memory (src/lease/lessor.ts): it is made only once a
    // ReadIndex round confirmed this member still leads, so no later leader took over before it.
    const ttl = (await this.leadingLeases('confirmed')) ? this.renewLease(id) : await this.forwardKeepAlive(id);
    return { header: this.header(), id, ttl };
  }

  /** Renews on the leader; etcd answers a keep-alive of an unknown lease with TTL 0. */
  private renewLease(id: bigint): number {
    try {
      return this.leases.lessor.renew(id);
    } catch (e) {
      if (!(isEtcdError(e) && e.code === 'LeaseNotFound')) throw e;
      return 0;
    }
  }

  /**
   * A follower's keep-alive goes to the leader over the peer port. Those arriving in the same
   * turn of the event loop share one request (up to MAX_FORWARDED_KEEPALIVES), answered with a
   * TTL per lease after one leadership check.
   */
  private forwardKeepAlive(id: bigint): Promise<number> {
    let batch = this.keepAliveBatch;
    if (batch === undefined || batch.ids.length >= MAX_FORWARDED_KEEPALIVES) {
      const ids: bigint[] = [];
      const ttls = new Promise<number[]>((resolve, reject) => {
        setImmediate(() => {
          if (this.keepAliveBatch?.ids === ids) this.keepAliveBatch = undefined;
          const path = `/leases/keepalive/${ids.map((x) => idToHex(BigInt.asUintN(64, x))).join(',')}`;
          this.forwardToLeader<{ ttls?: unknown }>('POST', path).then((r) => {
            if (Array.isArray(r.ttls) && r.ttls.length === ids.length && r.ttls.every((t) => typeof t === 'number')) resolve(r.ttls as number[]);
            else reject(new EtcdError('Timeout', { cause: new Error(`leader answered ${ids.length} keep-alives with ${JSON.stringify(r).slice(0, 200)}`) }));
          }, reject);
        });
      });
      batch = { ids, ttls };
      this.keepAliveBatch = batch;
    }
    const i = batch.ids.push(id) - 1;
    return batch.ttls.then((ttls) => ttls[i] as number);
  }

  async leaseTimeToLive(id: bigint, withKeys: boolean): Promise<LeaseTimeToLiveResult> {
    this.refuseOnLearner();
    if (!(await this.leadingLeases('applied'))) {
      const r = await this.forwardToLeader<{ ttl: number; grantedTtl: number; keys: string[] }>('GET', `/leases/ttl/${idToHex(BigInt.asUintN(64, id))}?keys=${withKeys ? 1 : 0}`);
      return { header: this.header(), id, ttl: r.ttl, grantedTtl: r.grantedTtl, keys: r.keys.map((k) => Buffer.from(k, 'base64')) };
    }
    return { header: this.header(), id, ...this.localTimeToLive(id, withKeys) };
  }

  private localTimeToLive(id: bigint, withKeys: boolean): { ttl: number; grantedTtl: number; keys: Uint8Array[] } {
    const lessor = this.leases.lessor;
    // etcd answers an unknown lease with TTL -1.
    if (lessor.lookup(id) === undefined) return { ttl: -1, grantedTtl: 0, keys: [] };
    const t = lessor.timeToLive(id, withKeys);
    return { ttl: t.ttlSeconds, grantedTtl: t.grantedTtlSeconds, keys: t.keys };
  }

  async leaseLeases(): Promise<LeaseLeasesResult> {
    this.refuseOnLearner();
    return { header: this.header(), leases: this.leases.lessor.leases().map((l) => l.id) };
  }

  /**
   * Whether this member answers lease timing itself: it is the leader and has taken over
   * expiry (waiting for that, briefly, right after an election). False on followers.
   * Everything committed when the request came (a grant a follower already answered, say) is
   * applied here first, as etcd's waitAppliedIndex: applying runs behind committing. 'confirmed'
   * also has a ReadIndex round confirm that this member still leads (etcd's ensureLeadership).
   */
  private async leadingLeases(check: 'applied' | 'confirmed'): Promise<boolean> {
    if (this.lead === NONE) throw new EtcdError('NoLeader');
    if (this.lead !== this.memberId) return false;
    if (check === 'confirmed') await this.linearizableRead();
    else await this.waitApplied(this.node.raft.log.committed);
    if (this.leases.lessor.isPrimary) return true;
    await withTimeout(
      new Promise<void>((r) => this.promoteWaiters.push(r)),
      this.requestTimeoutMs(),
      () => {
        for (const w of this.promoteWaiters.splice(0)) w();
      },
    );
    if (!this.leases.lessor.isPrimary) throw new EtcdError(this.lead === this.memberId ? 'Timeout' : 'LeaderChanged');
    return true;
  }

  /** The leader's lease timing: revoke what expired, through raft. */
  private leaseTick(): void {
    const lessor = this.leases.lessor;
    if (!lessor.isPrimary || this.lead !== this.memberId) return;
    for (const l of lessor.expired(LEASE_REVOKES_PER_TICK)) {
      this.propose((rid) => ({ id: rid, op: 'leaseRevoke', leaseId: l.id })).catch((e: unknown) => {
        // Reported again after the retry interval if it is still there.
        this.cfg.logger.debug('revoking an expired lease failed', { lease: idToHex(l.id), error: String(e) });
      });
    }
  }

  /** Publish this member's name and client URLs through raft once there is a leader. */
  private async publishAttributes(): Promise<void> {
    for (let attempt = 0; this.running && attempt < 1000; attempt++) {
      const m = this.membership.get(this.memberId);
      if (m && m.name === this.cfg.name && sameList(m.clientURLs, this.cfg.advertiseClientUrls)) return;
      if (this.lead === NONE) await new Promise<void>((r) => this.leaderWaiters.push(r));
      try {
        await this.propose((id) => ({ id, op: 'attributes', memberId: this.memberId, name: this.cfg.name, clientURLs: [...this.cfg.advertiseClientUrls] }));
        this.cfg.logger.info('published local member to cluster through raft', { name: this.cfg.name, clientURLs: this.cfg.advertiseClientUrls });
        return;
      } catch (e) {
        if (!this.running) return;
        this.cfg.logger.debug('publishing attributes failed; retrying', { error: String(e) });
        await new Promise((r) => setTimeout(r, this.cfg.heartbeatMs * 5));
      }
    }
  }

  testBug(name: 'lock-without-lease-check'): boolean {
    return this.cfg.testHooks?.bug(name) ?? false;
  }

  /** Watcher counts by place (etcd's watcher gauges); for tests and metrics. */
  watchStats(): { synced: number; unsynced: number; victims: number; streams: number } {
    return { ...this.hub.stats(), streams: this.watchStreams.size };
  }

  /** For tests and the admin surface. */
  raftStatus(): ReturnType<RawNode['status']> {
    return this.node.status();
  }

  isLeader(): boolean {
    return this.node.raft.state === StateType.Leader;
  }
}

/** Each entry's request, decoded once (the apply loop looks at it twice). */
const decoded = new WeakMap<Entry, InternalRequest>();

function requestOf(e: Entry): InternalRequest {
  let r = decoded.get(e);
  if (r === undefined) {
    r = decodeRequest(e.data);
    decoded.set(e, r);
  }
  return r;
}

/** Client requests and lease records share an apply group; compactions and conf changes go alone. */
function isGroupable(e: Entry): boolean {
  if (e.type !== EntryType.Normal) return false;
  if (e.data.byteLength === 0) return true;
  return requestOf(e).op !== 'compaction';
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(catalog, code);
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += (await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  const t = setTimeout(onTimeout, ms);
  return p.finally(() => clearTimeout(t));
}
