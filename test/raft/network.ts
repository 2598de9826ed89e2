/**
 * A tiny deterministic cluster for Raft unit tests. It is not the simulation (test/raft/sim*):
 * there is no randomness, delay or reordering here. stabilize() handles every node's Ready the
 * way the application loop in notes/raft-api.md does (persist, send, apply, advance) and
 * delivers the messages in the order they were sent, until nothing is left to do.
 *
 * Faults are explicit: isolate a node, cut a link, or drop the messages a predicate picks.
 * Members listed in the configuration but not running exist only as ids: a test can speak for
 * them by handing crafted messages to deliver(), and read what was sent to them in `sent`.
 */
import {
  EntryType,
  MemoryStorage,
  MessageType,
  NONE,
  RaftError,
  RawNode,
  SnapshotStatus,
  StateType,
  decodeConfChange,
  isEmptySnapshot,
  type Config,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Snapshot,
  type Status,
} from '../../src/raft/index.js';
import { Prng } from '../../src/util/prng.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const text = (data: Uint8Array): string => decoder.decode(data);
export const bytes = (s: string): Uint8Array => encoder.encode(s);

/** A Normal entry; by default its data names its place ("index@term") so tests can tell entries apart. */
export function entry(index: number, term: number, data: Uint8Array = bytes(`${index}@${term}`)): Entry {
  return { index, term, type: EntryType.Normal, data };
}

/** A node's starting log and hard state, on top of the bootstrap snapshot at index 1, term 1. */
export interface LogOptions {
  /** Terms of the entries at indexes 2, 3, ... */
  readonly terms?: readonly number[];
  /** Defaults to the last entry's term (at least 1). */
  readonly term?: number;
  readonly vote?: NodeId;
  /** Defaults to 1, the bootstrap snapshot. */
  readonly commit?: number;
}

/** A MemoryStorage bootstrapped with `confState` and then holding `log`, as if written by an earlier run. */
export function bootstrappedStorage(confState: ConfState, log: LogOptions = {}): MemoryStorage {
  const terms = log.terms ?? [];
  terms.forEach((t, i) => {
    if (t < (terms[i - 1] ?? 1)) throw new Error(`log terms must not decrease: ${terms.join(',')}`);
  });
  const storage = new MemoryStorage();
  storage.bootstrap(confState);
  storage.append(terms.map((t, i) => entry(i + 2, t)));
  storage.setHardState({ term: log.term ?? Math.max(1, ...terms), vote: log.vote ?? NONE, commit: log.commit ?? 1 });
  return storage;
}

/** Raft settings a test may choose; id, storage and prng are the network's. */
export type NodeSettings = Partial<Omit<Config, 'id' | 'storage' | 'prng'>>;

export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** The members that run a RawNode; default: all voters and learners. */
  readonly running?: readonly NodeId[];
  /** Defaults: electionTick 10, heartbeatTick 1. */
  readonly settings?: NodeSettings;
  /** A node's starting log; default: just the bootstrap snapshot. */
  readonly log?: (id: NodeId) => LogOptions | undefined;
  /** Node i draws its election timeouts from Prng(seed + i). */
  readonly seed?: number;
}

/** One member: its RawNode, its storage, and a toy state machine (the list of applied payloads). */
export class NetworkNode {
  raw: RawNode;
  /** Every entry applied, in order (the committedEntries of each Ready). */
  readonly applied: Entry[] = [];
  appliedIndex: number;
  /** The state machine: the payloads of applied non-empty Normal entries, as text. */
  state: string[] = [];
  confState: ConfState;
  readonly readStates: ReadState[] = [];
  /** Snapshots this node restored from (received from a leader). */
  readonly restored: Snapshot[] = [];
  /** Every HardState persisted, in order. */
  readonly hardStates: HardState[] = [];

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    readonly config: Config,
  ) {
    const snap = storage.snapshot();
    this.appliedIndex = snap.metadata.index;
    this.confState = storage.initialState().confState;
    this.restore(snap.data);
    this.raw = new RawNode(config);
  }

  status(): Status {
    return this.raw.status();
  }

  snapshotData(): Uint8Array {
    return bytes(JSON.stringify(this.state));
  }

  restore(data: Uint8Array): void {
    this.state = data.byteLength === 0 ? [] : (JSON.parse(text(data)) as string[]);
  }

  apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new Error(`node ${this.id}: applying index ${e.index} after ${this.appliedIndex}`);
    }
    this.applied.push(e);
    this.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      this.confState = this.raw.applyConfChange(decodeConfChange(e.data));
      // Like a server that snapshots after every membership change: a member added later is
      // then sent a snapshot whose configuration includes it.
      if (e.index > this.storage.snapshot().metadata.index) {
        this.storage.createSnapshot(e.index, this.confState, this.snapshotData());
      }
    } else if (e.data.byteLength > 0) {
      this.state.push(text(e.data));
    }
  }
}

export class Network {
  readonly nodes = new Map<NodeId, NetworkNode>();
  /** Every message any node emitted (delivered or dropped), in order. */
  readonly sent: Message[] = [];
  /** Errors raised by step() for delivered messages (e.g. a forwarded proposal the leader dropped). */
  readonly stepErrors: RaftError[] = [];

  private readonly queue: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  private readonly cutLinks = new Set<string>();
  private readonly dropRules = new Set<(m: Message) => boolean>();
  private readonly settings: NodeSettings;
  private readonly seed: number;

  constructor(opts: NetworkOptions) {
    this.settings = opts.settings ?? {};
    this.seed = opts.seed ?? 0;
    const confState: ConfState = { voters: [...opts.voters], learners: [...(opts.learners ?? [])] };
    for (const id of opts.running ?? [...confState.voters, ...confState.learners]) {
      this.addNode(id, bootstrappedStorage(confState, opts.log?.(id)));
    }
  }

  node(id: NodeId): NetworkNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no running node ${id}`);
    return n;
  }

  status(id: NodeId): Status {
    return this.node(id).status();
  }

  /** Start a member; a member added to a running cluster starts with empty storage (no bootstrap). */
  addNode(id: NodeId, storage: MemoryStorage = new MemoryStorage()): NetworkNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} already runs`);
    const config: Config = {
      electionTick: 10,
      heartbeatTick: 1,
      ...this.settings,
      id,
      storage,
      prng: new Prng(this.seed + Number(id)),
    };
    const n = new NetworkNode(id, storage, config);
    this.nodes.set(id, n);
    return n;
  }

  /** Crash and restart: volatile raft state is lost; storage and the state machine survive. */
  restart(id: NodeId): void {
    const n = this.node(id);
    n.raw = new RawNode({ ...n.config, applied: n.appliedIndex });
  }

  // --- faults (checked when a message is delivered) ---

  /** Drop every message to or from `id` until heal(). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Drop messages between a and b, both ways, until heal(). */
  cut(a: NodeId, b: NodeId): void {
    this.cutLinks.add(linkKey(a, b));
  }

  /** Drop the messages `pick` chooses; returns a function that removes the rule. */
  dropIf(pick: (m: Message) => boolean): () => void {
    this.dropRules.add(pick);
    return () => this.dropRules.delete(pick);
  }

  /** Remove every fault. */
  heal(): void {
    this.isolated.clear();
    this.cutLinks.clear();
    this.dropRules.clear();
  }

  private dropped(m: Message): boolean {
    if (this.isolated.has(m.from) || this.isolated.has(m.to)) return true;
    if (this.cutLinks.has(linkKey(m.from, m.to))) return true;
    for (const pick of this.dropRules) if (pick(m)) return true;
    return !this.nodes.has(m.to);
  }

  // --- driving ---

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.node(id).raw.tick();
  }

  /** MsgHup on `id`, then stabilize. */
  campaign(id: NodeId): void {
    this.node(id).raw.campaign();
    this.stabilize();
  }

  /** Propose `payload` on `id` (throws RaftError 'ProposalDropped' like RawNode.propose); does not stabilize. */
  propose(id: NodeId, payload: string): void {
    this.node(id).raw.propose(bytes(payload));
  }

  /**
   * Step `m` into its target now, ignoring faults (for messages a test crafts on behalf of a
   * member that does not run). A proposal the target drops is recorded in stepErrors, as a
   * transport would ignore it; any other error propagates.
   */
  deliver(m: Message): void {
    const target = this.nodes.get(m.to);
    if (target === undefined) return;
    try {
      target.raw.step(m);
    } catch (err) {
      if (err instanceof RaftError && err.code === 'ProposalDropped') {
        this.stepErrors.push(err);
        return;
      }
      throw err;
    }
    // The transport tells the sender how a snapshot went, like etcd's does.
    if (m.type === MessageType.MsgSnap) this.nodes.get(m.from)?.raw.reportSnapshot(m.to, SnapshotStatus.Finish);
  }

  /**
   * Handle one Ready of `id` if it has one: persist the snapshot, entries and hard state, queue
   * the messages, apply the committed entries, advance. Returns the Ready for inspection.
   */
  processReady(id: NodeId): Ready | undefined {
    const n = this.node(id);
    if (!n.raw.hasReady()) return undefined;
    const rd = n.raw.ready();
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      n.storage.applySnapshot(rd.snapshot);
      n.restore(rd.snapshot.data);
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
      n.restored.push(rd.snapshot);
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) {
      n.storage.setHardState(rd.hardState);
      n.hardStates.push(rd.hardState);
    }
    for (const m of [...rd.leaderMessages, ...rd.messages]) {
      this.sent.push(m);
      this.queue.push(m);
    }
    n.readStates.push(...rd.readStates);
    for (const e of rd.committedEntries) n.apply(e);
    n.raw.advance();
    return rd;
  }

  /** Handle Readys and deliver queued messages until no node has a Ready and nothing is in flight. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.nodes.keys()) busy = this.processReady(id) !== undefined || busy;
      for (const m of this.queue.splice(0)) {
        busy = true;
        if (!this.dropped(m)) {
          this.deliver(m);
        } else if (m.type === MessageType.MsgSnap) {
          this.nodes.get(m.from)?.raw.reportSnapshot(m.to, SnapshotStatus.Failure);
        }
      }
      if (!busy) return;
    }
    throw new Error(`stabilize: still busy after ${maxRounds} rounds`);
  }

  /** Snapshot `id`'s state machine at its applied index and compact its log there. */
  compact(id: NodeId): Snapshot {
    const n = this.node(id);
    const snap = n.storage.createSnapshot(n.appliedIndex, n.confState, n.snapshotData());
    n.storage.compact(n.appliedIndex);
    return snap;
  }

  // --- inspection ---

  /** The running leader with the highest term, if any. */
  leader(): NodeId | undefined {
    let best: Status | undefined;
    for (const n of this.nodes.values()) {
      const st = n.status();
      if (st.state === StateType.Leader && (best === undefined || st.term > best.term)) best = st;
    }
    return best?.id;
  }

  /** The entries in id's storage, from its first index to its last. */
  log(id: NodeId): Entry[] {
    const s = this.node(id).storage;
    return s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  }

  /** The terms of the entries in id's storage, from its first index to its last. */
  logTerms(id: NodeId): number[] {
    return this.log(id).map((e) => e.term);
  }

  /** Messages `from` sent (optionally of one type), in order. */
  sentBy(from: NodeId, type?: MessageType): Message[] {
    return this.sent.filter((m) => m.from === from && (type === undefined || m.type === type));
  }

  clearSent(): void {
    this.sent.length = 0;
  }
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
