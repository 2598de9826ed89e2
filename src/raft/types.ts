/**
 * The Raft core's data: entries, hard state, configurations, snapshots, messages and Ready.
 *
 * Node ids are bigint (64-bit, like etcd's member ids); 0n means "none". Terms and indexes are
 * plain numbers (they stay far below 2^53).
 */

export type NodeId = bigint;
export const NONE: NodeId = 0n;

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** For Normal entries, the application's payload (empty for a leader's no-op entry);
   * for ConfChange entries, the encoded ConfChange (see encodeConfChange). */
  readonly data: Uint8Array;
}

/** What must be durable before messages that depend on it are sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/** The membership: voters take part in elections and commitment; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export enum ConfChangeType {
  /** Add a voter, or promote a learner to voter. */
  AddNode = 0,
  RemoveNode = 1,
  AddLearnerNode = 2,
}

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to raft; the server carries member attributes (peer URLs) here. */
  readonly context?: Uint8Array;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The state machine's serialized state at metadata.index. */
  readonly data: Uint8Array;
}

export enum MessageType {
  /** Local: start an election. */
  MsgHup = 'MsgHup',
  /** Local: leader should broadcast a heartbeat. */
  MsgBeat = 'MsgBeat',
  /** Local: leader checks that a quorum was recently active. */
  MsgCheckQuorum = 'MsgCheckQuorum',
  /** A proposal; local on the leader, forwarded by followers. */
  MsgProp = 'MsgProp',
  MsgApp = 'MsgApp',
  MsgAppResp = 'MsgAppResp',
  MsgVote = 'MsgVote',
  MsgVoteResp = 'MsgVoteResp',
  MsgPreVote = 'MsgPreVote',
  MsgPreVoteResp = 'MsgPreVoteResp',
  MsgSnap = 'MsgSnap',
  MsgHeartbeat = 'MsgHeartbeat',
  MsgHeartbeatResp = 'MsgHeartbeatResp',
  /** Local: the transport could not reach a peer. */
  MsgUnreachable = 'MsgUnreachable',
  /** Local: the result of sending a snapshot to a peer. */
  MsgSnapStatus = 'MsgSnapStatus',
  MsgTransferLeader = 'MsgTransferLeader',
  MsgTimeoutNow = 'MsgTimeoutNow',
  MsgReadIndex = 'MsgReadIndex',
  MsgReadIndexResp = 'MsgReadIndexResp',
}

/**
 * One Raft message. Fields not used by a type keep their zero values, so a message can be
 * framed by any encoder (the transport uses msgpackr).
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`. Vote requests: the candidate's last log term.
   * MsgAppResp rejections: the term of the follower's entry at rejectHint. */
  readonly logTerm: number;
  /** MsgApp: index of the entry before `entries`. MsgAppResp: last index accepted or rejected.
   * Vote requests: the candidate's last index. MsgReadIndexResp: the read index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot?: Snapshot;
  readonly reject: boolean;
  readonly rejectHint: number;
  /** MsgHeartbeat(Resp): the ReadIndex round. MsgReadIndex(Resp): the request's context.
   * Vote requests: CAMPAIGN_TRANSFER when a leadership transfer forced the election. */
  readonly context?: Uint8Array;
}

/** Volatile state that the application may want to observe (leader, role). */
export interface SoftState {
  readonly lead: NodeId;
  readonly state: StateType;
}

export enum StateType {
  Follower = 'StateFollower',
  Candidate = 'StateCandidate',
  Leader = 'StateLeader',
  PreCandidate = 'StatePreCandidate',
}

/** The answer to a ReadIndex request: once the applied index reaches `index`, a read that
 * started before the request was made may be served from the local state machine. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/**
 * Everything the application must do for raft, in this order:
 *  1. persist `snapshot` (if any), then `entries`, then `hardState` (if any); fsync when
 *     `mustSync`;
 *  2. send `messages`: only after step 1 is durable. `leaderMessages` may be sent at once, in
 *     parallel with step 1 (they are the leader's replication traffic, which never claims
 *     anything about the leader's own disk);
 *  3. apply `committedEntries` (and `snapshot`) to the state machine;
 *  4. call `advance()`, which tells raft that step 1 is durable.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly leaderMessages: readonly Message[];
  readonly mustSync: boolean;
}

export enum SnapshotStatus {
  Finish = 'finish',
  Failure = 'failure',
}

export enum ProgressState {
  /** Send one append at a time and wait to learn where the follower's log matches. */
  Probe = 'StateProbe',
  /** Stream appends optimistically, bounded by the inflight window. */
  Replicate = 'StateReplicate',
  /** A snapshot is on its way; send nothing else until it is applied. */
  Snapshot = 'StateSnapshot',
}

export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

export function emptyMessage(type: MessageType, to: NodeId, from: NodeId, term: number): Message {
  return { type, to, from, term, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
}

export function isLocalMessage(type: MessageType): boolean {
  return (
    type === MessageType.MsgHup ||
    type === MessageType.MsgBeat ||
    type === MessageType.MsgUnreachable ||
    type === MessageType.MsgSnapStatus ||
    type === MessageType.MsgCheckQuorum
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === MessageType.MsgAppResp ||
    type === MessageType.MsgVoteResp ||
    type === MessageType.MsgHeartbeatResp ||
    type === MessageType.MsgUnreachable ||
    type === MessageType.MsgPreVoteResp
  );
}

/** The size that counts against byte limits (inflight bytes, max message size). */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === NONE && h.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

// ConfChange entries carry their change in `data`; a fixed little layout keeps raft free of any
// serialization library: [type u8][nodeId u64 BE][context...].
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(9 + ctx.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, cc.type);
  view.setBigUint64(1, cc.nodeId);
  out.set(ctx, 9);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < 9) throw new RangeError(`conf change too short: ${data.byteLength} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const type = view.getUint8(0);
  if (type !== ConfChangeType.AddNode && type !== ConfChangeType.RemoveNode && type !== ConfChangeType.AddLearnerNode) {
    throw new RangeError(`unknown conf change type ${type}`);
  }
  return { type, nodeId: view.getBigUint64(1), context: data.slice(9) };
}
