/**
 * The rules of Figure 2 of the Raft paper ("In Search of an Understandable Consensus
 * Algorithm", Ongaro & Ousterhout), one test per rule, plus the Figure 7 and Figure 8 scenarios
 * and the extensions etcd's Raft adds (PreVote, CheckQuorum, leadership transfer, ReadIndex,
 * membership changes, snapshots).
 *
 * Index 1 of every log is the bootstrap snapshot (term 1), so the paper's index i is often our
 * index i+1. Most single-rule tests run one node ("solo") and speak for its peers with crafted
 * messages; the others run a small Network.
 */
import { describe, expect, test } from 'vitest';
import {
  ConfChangeType,
  MessageType,
  NONE,
  RaftError,
  StateType,
  emptyMessage,
  type Entry,
  type Message,
  type NodeId,
} from '../../src/raft/index.js';
import { Network, bytes, entry, text, type LogOptions, type NodeSettings } from './network.js';

const [n1, n2, n3, n4, n5] = [1n, 2n, 3n, 4n, 5n];
const THREE = [n1, n2, n3];
const FIVE = [n1, n2, n3, n4, n5];
const ELECTION = 10;

// --- helpers ---

interface SoloOptions {
  voters?: readonly NodeId[];
  log?: LogOptions;
  settings?: NodeSettings;
  seed?: number;
}

/** Node 1 alone runs; its peers are ids in its configuration, and the test speaks for them. */
function solo(opts: SoloOptions = {}): Network {
  const log = opts.log;
  return new Network({
    voters: opts.voters ?? THREE,
    running: [n1],
    ...(opts.settings !== undefined && { settings: opts.settings }),
    ...(log !== undefined && { log: () => log }),
    ...(opts.seed !== undefined && { seed: opts.seed }),
  });
}

function msg(type: MessageType, from: NodeId, to: NodeId, term: number, fields: Partial<Message> = {}): Message {
  return { ...emptyMessage(type, to, from, term), ...fields };
}

/** An AppendEntries from `from` (as leader of `term`) to node 1. */
function append(from: NodeId, term: number, prev: [index: number, term: number], entries: Entry[], commit: number): Message {
  return msg(MessageType.MsgApp, from, n1, term, { index: prev[0], logTerm: prev[1], entries, commit });
}

function voteRequest(from: NodeId, term: number, last: [index: number, term: number]): Message {
  return msg(MessageType.MsgVote, from, n1, term, { index: last[0], logTerm: last[1] });
}

/** Deliver `m` to node 1 and handle everything that follows. */
function receive(net: Network, m: Message): void {
  net.deliver(m);
  net.stabilize();
}

/** Solo node 1 campaigns and wins with grants from the first peers of its configuration. */
function electSolo(net: Network): void {
  net.campaign(n1);
  const { term, config } = net.status(n1);
  const peers = config.voters.filter((id) => id !== n1);
  for (const peer of peers.slice(0, Math.floor(config.voters.length / 2))) {
    receive(net, msg(MessageType.MsgVoteResp, peer, n1, term));
  }
  expect(net.status(n1).state).toBe(StateType.Leader);
}

/** Tick `id` one tick at a time (stabilizing after each) until `done`; returns the ticks taken. */
function ticksUntil(net: Network, id: NodeId, done: () => boolean, maxTicks: number): number {
  for (let ticks = 1; ticks <= maxTicks; ticks++) {
    net.tick(id);
    net.stabilize();
    if (done()) return ticks;
  }
  throw new Error(`node ${id}: condition not reached within ${maxTicks} ticks`);
}

/** How many ticks a fresh follower with this seed waits before it campaigns. */
function electionTicks(seed: number): number {
  const net = solo({ seed });
  return ticksUntil(net, n1, () => net.status(n1).state !== StateType.Follower, 2 * ELECTION);
}

function responses(net: Network, type: MessageType, to?: NodeId): Message[] {
  return net.sentBy(n1, type).filter((m) => to === undefined || m.to === to);
}

function granted(net: Network, to: NodeId): boolean {
  const resps = responses(net, MessageType.MsgVoteResp, to);
  return resps.length > 0 && resps.every((m) => !m.reject);
}

function expectProposalDropped(fn: () => void): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RaftError);
  expect((caught as RaftError).code).toBe('ProposalDropped');
}

const sorted = (ids: readonly NodeId[]): NodeId[] => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const indexes = (entries: readonly Entry[]): number[] => entries.map((e) => e.index);

/** A 3- or 5-member network where node 1 has been elected leader of term 2 and everything settled. */
function clusterWithLeader(voters: readonly NodeId[] = THREE, settings: NodeSettings = {}): Network {
  const net = new Network({ voters, settings });
  net.campaign(n1);
  expect(net.leader()).toBe(n1);
  return net;
}

// --- Figure 2: Rules for all servers ---

describe('Rules for Servers / All Servers', () => {
  type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';
  const roleState: Record<Role, StateType> = {
    follower: StateType.Follower,
    'pre-candidate': StateType.PreCandidate,
    candidate: StateType.Candidate,
    leader: StateType.Leader,
  };
  function soloAs(role: Role): Network {
    const net = solo({ settings: { preVote: role === 'pre-candidate' } });
    if (role === 'pre-candidate' || role === 'candidate') net.campaign(n1);
    if (role === 'leader') electSolo(net);
    expect(net.status(n1).state).toBe(roleState[role]);
    return net;
  }
  const roles: Role[] = ['follower', 'pre-candidate', 'candidate', 'leader'];

  test.each(roles)('an AppendEntries with a higher term makes a %s a follower of that term and of that leader', (role) => {
    const net = soloAs(role);
    receive(net, append(n2, 5, [1, 1], [], 1));
    const st = net.status(n1);
    expect([st.state, st.term, st.lead]).toEqual([StateType.Follower, 5, n2]);
    expect(net.node(n1).storage.initialState().hardState.term).toBe(5);
  });

  test.each(roles)('a RequestVote with a higher term makes a %s a follower of that term', (role) => {
    const net = soloAs(role);
    receive(net, voteRequest(n3, 5, [100, 4]));
    const st = net.status(n1);
    expect([st.state, st.term, st.lead]).toEqual([StateType.Follower, 5, NONE]);
    expect(net.node(n1).storage.initialState().hardState.term).toBe(5);
  });

  test('a message with a lower term changes nothing; any reply carries the current term', () => {
    const net = solo({ log: { terms: [1, 2], term: 3 } });
    receive(net, append(n2, 2, [3, 2], [entry(4, 2)], 3));
    const st = net.status(n1);
    expect([st.state, st.term, st.commit, st.lead]).toEqual([StateType.Follower, 3, 1, NONE]);
    expect(net.logTerms(n1)).toEqual([1, 2]);
    for (const m of net.sentBy(n1)) expect(m.term).toBe(3);
  });

  test('commitIndex > lastApplied: committed entries are applied in log order, each once', () => {
    const net = solo({ log: { terms: [1, 1, 2, 2, 2], term: 2, commit: 5 } });
    net.stabilize();
    expect(indexes(net.node(n1).applied)).toEqual([2, 3, 4, 5]);

    receive(net, append(n2, 2, [6, 2], [], 6));
    expect(indexes(net.node(n1).applied)).toEqual([2, 3, 4, 5, 6]);
    expect(net.node(n1).state).toEqual(['2@1', '3@1', '4@2', '5@2', '6@2']);
  });
});

// --- Figure 2: Followers ---

describe('Rules for Servers / Followers', () => {
  test('respond to RPCs from candidates and leaders, in Ready.messages (after persisting)', () => {
    const net = solo();
    const cases: [Message, MessageType][] = [
      [voteRequest(n2, 2, [1, 1]), MessageType.MsgVoteResp],
      [append(n2, 2, [1, 1], [entry(2, 2)], 1), MessageType.MsgAppResp],
      [msg(MessageType.MsgHeartbeat, n2, n1, 2, { commit: 1 }), MessageType.MsgHeartbeatResp],
    ];
    for (const [request, responseType] of cases) {
      net.deliver(request);
      const rd = net.processReady(n1);
      expect(rd?.messages.map((m) => [m.type, m.to, m.reject])).toEqual([[responseType, n2, false]]);
      expect(rd?.leaderMessages).toEqual([]);
    }
  });

  test('an election timeout without hearing from a leader makes a follower a candidate within [electionTick, 2*electionTick) ticks', () => {
    for (let seed = 1; seed <= 8; seed++) {
      const net = solo({ seed });
      const ticks = ticksUntil(net, n1, () => net.status(n1).state !== StateType.Follower, 2 * ELECTION);
      expect(ticks).toBeGreaterThanOrEqual(ELECTION);
      expect(ticks).toBeLessThan(2 * ELECTION);
      const st = net.status(n1);
      expect([st.state, st.term, st.vote]).toEqual([StateType.Candidate, 2, n1]);
    }
  });

  test('with PreVote, an election timeout makes a follower a pre-candidate that keeps its term', () => {
    const net = solo({ settings: { preVote: true } });
    const ticks = ticksUntil(net, n1, () => net.status(n1).state !== StateType.Follower, 2 * ELECTION);
    expect(ticks).toBeGreaterThanOrEqual(ELECTION);
    const st = net.status(n1);
    expect([st.state, st.term, st.vote]).toEqual([StateType.PreCandidate, 1, NONE]);
    // Pre-votes ask about the next term without entering it.
    expect(net.sentBy(n1, MessageType.MsgPreVote).map((m) => [m.to, m.term])).toEqual([
      [n2, 2],
      [n3, 2],
    ]);
  });

  test('heartbeats from the current leader reset the election timer', () => {
    const net = solo();
    for (let i = 0; i < 5 * ELECTION; i++) {
      net.tick(n1);
      receive(net, msg(MessageType.MsgHeartbeat, n2, n1, 2, { commit: 1 }));
      expect(net.status(n1).state).toBe(StateType.Follower);
    }
    // Once the heartbeats stop, the timer runs out.
    ticksUntil(net, n1, () => net.status(n1).state === StateType.Candidate, 2 * ELECTION);
  });
});

// --- Figure 2: Candidates ---

describe('Rules for Servers / Candidates', () => {
  test('on starting an election: increment currentTerm, vote for self, persist both in the Ready that carries the vote requests', () => {
    const net = solo();
    net.node(n1).raw.campaign();
    const rd = net.processReady(n1);
    expect(rd?.hardState).toMatchObject({ term: 2, vote: n1 });
    const votes = rd?.messages.filter((m) => m.type === MessageType.MsgVote) ?? [];
    expect(votes.map((m) => [m.to, m.term, m.index, m.logTerm])).toEqual([
      [n2, 2, 1, 1],
      [n3, 2, 1, 1],
    ]);
    expect(rd?.leaderMessages.filter((m) => m.type === MessageType.MsgVote)).toEqual([]);
    expect(net.status(n1).state).toBe(StateType.Candidate);
  });

  test('votes received from a majority of servers: become leader', () => {
    const net = solo({ voters: FIVE });
    net.campaign(n1);
    receive(net, msg(MessageType.MsgVoteResp, n2, n1, 2));
    expect(net.status(n1).state).toBe(StateType.Candidate); // 2 of 5
    receive(net, msg(MessageType.MsgVoteResp, n3, n1, 2));
    expect(net.status(n1).state).toBe(StateType.Leader); // 3 of 5
  });

  test.each([MessageType.MsgApp, MessageType.MsgHeartbeat])('a %s from a leader of the same term: convert to follower', (type) => {
    const net = solo();
    net.campaign(n1);
    const m = type === MessageType.MsgApp ? append(n2, 2, [1, 1], [], 1) : msg(type, n2, n1, 2, { commit: 1 });
    receive(net, m);
    const st = net.status(n1);
    expect([st.state, st.term, st.lead]).toEqual([StateType.Follower, 2, n2]);
  });

  test('election timeout elapses: start a new election', () => {
    const net = solo();
    net.campaign(n1);
    net.clearSent();
    ticksUntil(net, n1, () => net.status(n1).term === 3, 2 * ELECTION);
    const st = net.status(n1);
    expect([st.state, st.vote]).toEqual([StateType.Candidate, n1]);
    expect(net.sentBy(n1, MessageType.MsgVote).map((m) => [m.to, m.term])).toEqual([
      [n2, 3],
      [n3, 3],
    ]);
  });

  test('randomized election timeouts differ across nodes with different prng seeds (and repeat with the same seed)', () => {
    const timeouts = Array.from({ length: 20 }, (_, i) => electionTicks(i + 1));
    for (const t of timeouts) {
      expect(t).toBeGreaterThanOrEqual(ELECTION);
      expect(t).toBeLessThan(2 * ELECTION);
    }
    expect(new Set(timeouts).size).toBeGreaterThan(1);
    expect(electionTicks(7)).toBe(timeouts[6]);
  });
});

// --- Figure 2: Leaders ---

describe('Rules for Servers / Leaders', () => {
  test('upon election: send an empty AppendEntries (a no-op entry of the new term) to each server', () => {
    const net = solo();
    electSolo(net);
    expect(net.log(n1).at(-1)).toMatchObject({ index: 2, term: 2, data: new Uint8Array(0) });
    const apps = net.sentBy(n1, MessageType.MsgApp);
    for (const peer of [n2, n3]) {
      const toPeer = apps.filter((m) => m.to === peer);
      expect(toPeer.length).toBeGreaterThan(0);
      expect(toPeer[0]?.entries.map((e) => [e.index, e.term, e.data.byteLength])).toEqual([[2, 2, 0]]);
    }
  });

  test('repeat empty AppendEntries (heartbeats) during idle periods', () => {
    const net = solo();
    electSolo(net);
    net.clearSent();
    net.tick(n1); // heartbeatTick is 1
    net.stabilize();
    expect(net.sentBy(n1, MessageType.MsgHeartbeat).map((m) => m.to)).toEqual([n2, n3]);
  });

  test('a command from a client is appended to the local log and sent to the followers in the same Ready', () => {
    const net = clusterWithLeader();
    net.propose(n1, 'x');
    const rd = net.processReady(n1);
    expect(rd?.entries.map((e) => [e.index, e.term, text(e.data)])).toEqual([[3, 2, 'x']]);
    const apps = [...(rd?.leaderMessages ?? []), ...(rd?.messages ?? [])].filter((m) => m.type === MessageType.MsgApp);
    expect(apps.map((m) => [m.to, indexes(m.entries)])).toEqual([
      [n2, [3]],
      [n3, [3]],
    ]);
    net.stabilize();
    for (const id of THREE) expect(net.node(id).state).toEqual(['x']);
  });

  test('an entry of the current term is committed once a majority of voters store it', () => {
    const net = solo({ voters: FIVE });
    electSolo(net);
    const ack = (from: NodeId, index: number): void => receive(net, msg(MessageType.MsgAppResp, from, n1, 2, { index }));
    ack(n2, 2);
    expect(net.status(n1).commit).toBe(1); // the no-op is on 2 of 5
    ack(n3, 2);
    expect(net.status(n1).commit).toBe(2); // 3 of 5

    net.propose(n1, 'x');
    net.stabilize();
    ack(n4, 3);
    expect(net.status(n1).commit).toBe(2);
    ack(n5, 3);
    expect(net.status(n1).commit).toBe(3);
    expect(net.node(n1).state).toEqual(['x']);
  });

  test('entries of earlier terms are not committed by counting replicas, only together with an entry of the current term', () => {
    // Node 1 holds 2@1 and 3@2 from earlier terms and becomes leader of term 3 (no-op at 4).
    const net = solo({ log: { terms: [1, 2], term: 2 } });
    electSolo(net);
    expect(net.status(n1).term).toBe(3);
    receive(net, msg(MessageType.MsgAppResp, n2, n1, 3, { index: 3 }));
    expect(net.status(n1).commit).toBe(1); // 2 and 3 are on a majority, but not of term 3
    receive(net, msg(MessageType.MsgAppResp, n2, n1, 3, { index: 4 }));
    expect(net.status(n1).commit).toBe(4);
    expect(indexes(net.node(n1).applied)).toEqual([2, 3, 4]);
    expect(net.node(n1).hardStates.map((hs) => hs.commit)).not.toContain(3);
  });

  // Figure 7: the leader of term 8 and followers (a)-(f) with missing or extra entries.
  // (The paper's index 1 is the bootstrap snapshot, so the lists start at index 2.)
  const FIGURE7_LEADER = [1, 1, 4, 4, 5, 5, 6, 6, 6];
  const FIGURE7_FOLLOWERS: Record<string, number[]> = {
    a: [1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 4],
    c: [1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 4, 4, 4, 4],
    f: [1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  test.each(Object.keys(FIGURE7_FOLLOWERS))(
    "if AppendEntries fails because of log inconsistency, decrement nextIndex and retry: Figure 7 follower (%s) ends with the leader's log",
    (name) => {
      const followerLog = FIGURE7_FOLLOWERS[name] ?? [];
      const net = new Network({
        voters: THREE,
        log: (id) => (id === n2 ? { terms: followerLog } : { terms: FIGURE7_LEADER, term: 8 }),
      });
      net.campaign(n1); // node 3 holds the leader's log and votes for it
      expect(net.leader()).toBe(n1);
      const leaderLog = [...FIGURE7_LEADER, 9];
      expect(net.logTerms(n1)).toEqual(leaderLog);
      expect(net.logTerms(n2)).toEqual(leaderLog);
      expect(net.status(n2).commit).toBe(11);
    },
  );

  test('a long divergent follower log is repaired in a few round trips, skipping back by the conflicting term', () => {
    const common = [1, 1, 1, 1]; // indexes 2..5, committed
    const leaderLog = [...common, ...Array<number>(100).fill(3)]; // 6..105 from a leader of term 3
    const staleLog = [...common, ...Array<number>(200).fill(2)]; // 6..205 from a leader of term 2
    const net = new Network({
      voters: THREE,
      log: (id) => ({ terms: id === n3 ? staleLog : leaderLog, term: 3, commit: 5 }),
    });
    net.campaign(n1);
    expect(net.leader()).toBe(n1);
    expect(net.logTerms(n3)).toEqual(net.logTerms(n1));
    // Stepping back one index per rejection would take ~100 round trips.
    const rejections = net.sentBy(n3, MessageType.MsgAppResp).filter((m) => m.reject);
    expect(rejections.length).toBeGreaterThan(0);
    expect(rejections.length).toBeLessThanOrEqual(2);
  });

  test('followers learn that an entry is committed from a later message', () => {
    const net = clusterWithLeader();
    net.clearSent();
    net.propose(n1, 'x');
    net.stabilize();
    const toN2 = net.sentBy(n1).filter((m) => m.to === n2);
    const carrying = toN2.findIndex((m) => m.type === MessageType.MsgApp && indexes(m.entries).includes(3));
    expect(toN2[carrying]?.commit).toBeLessThan(3); // not yet known to be committed when sent
    expect(toN2.slice(carrying + 1).some((m) => m.commit >= 3)).toBe(true);
    expect(net.status(n2).commit).toBe(3);
    expect(net.node(n2).state).toEqual(['x']);
  });
});

// --- Figure 2: RequestVote RPC ---

describe('RequestVote RPC', () => {
  test('reply false if term < currentTerm', () => {
    const net = solo({ log: { term: 3 } });
    receive(net, voteRequest(n2, 2, [100, 2]));
    expect(granted(net, n2)).toBe(false);
    const st = net.status(n1);
    expect([st.term, st.vote]).toEqual([3, NONE]);
  });

  test('grant at most one vote per term; the vote is persisted before the reply and survives a restart', () => {
    const net = solo();
    net.deliver(voteRequest(n2, 2, [1, 1]));
    const rd = net.processReady(n1);
    expect(rd?.hardState).toMatchObject({ term: 2, vote: n2 });
    expect(rd?.messages.map((m) => [m.type, m.to, m.reject])).toEqual([[MessageType.MsgVoteResp, n2, false]]);

    receive(net, voteRequest(n3, 2, [1, 1]));
    expect(granted(net, n3)).toBe(false);

    net.restart(n1);
    net.clearSent();
    receive(net, voteRequest(n3, 2, [1, 1]));
    expect(granted(net, n3)).toBe(false);
    receive(net, voteRequest(n2, 2, [1, 1])); // a repeated request from the same candidate
    expect(granted(net, n2)).toBe(true);
  });

  // The voter's log ends at index 3, term 2.
  test.each([
    { lastTerm: 3, lastIndex: 2, grant: true, why: 'higher last term, shorter log' },
    { lastTerm: 1, lastIndex: 10, grant: false, why: 'lower last term, longer log' },
    { lastTerm: 2, lastIndex: 2, grant: false, why: 'same last term, shorter log' },
    { lastTerm: 2, lastIndex: 3, grant: true, why: 'same last term, same length' },
    { lastTerm: 2, lastIndex: 4, grant: true, why: 'same last term, longer log' },
  ])("grant only if the candidate's log is at least as up-to-date: $why -> $grant", ({ lastTerm, lastIndex, grant }) => {
    const net = solo({ log: { terms: [1, 2], term: 2 } });
    receive(net, voteRequest(n2, 3, [lastIndex, lastTerm]));
    expect(granted(net, n2)).toBe(grant);
    expect(net.status(n1).vote).toBe(grant ? n2 : NONE);
  });
});

// --- Figure 2: AppendEntries RPC ---

describe('AppendEntries RPC', () => {
  // The follower's log: 2@1, 3@2.
  test.each([
    { prev: [3, 2], ok: true },
    { prev: [2, 1], ok: true },
    { prev: [1, 1], ok: true },
    { prev: [3, 3], ok: false },
    { prev: [2, 2], ok: false },
    { prev: [4, 2], ok: false },
  ] as { prev: [number, number]; ok: boolean }[])(
    'reply false if the log has no entry at prevLogIndex with prevLogTerm: prev $prev -> $ok',
    ({ prev, ok }) => {
      const net = solo({ log: { terms: [1, 2], term: 2 } });
      receive(net, append(n2, 2, prev, [entry(prev[0] + 1, 2)], 1));
      expect(responses(net, MessageType.MsgAppResp).map((m) => m.reject)).toEqual([!ok]);
      if (!ok) expect(net.logTerms(n1)).toEqual([1, 2]);
    },
  );

  test('an existing entry that conflicts with a new one is deleted with all that follow it', () => {
    const net = solo({ log: { terms: [1, 2, 2, 2], term: 2, commit: 2 } });
    receive(net, append(n2, 3, [2, 1], [entry(3, 3)], 2));
    expect(net.log(n1).map((e) => text(e.data))).toEqual(['2@1', '3@3']);
  });

  test('new entries not already in the log are appended (and only those are written)', () => {
    const net = solo({ log: { terms: [1, 2], term: 2 } });
    net.deliver(append(n2, 2, [2, 1], [entry(3, 2), entry(4, 2)], 1));
    const rd = net.processReady(n1);
    expect(indexes(rd?.entries ?? [])).toEqual([4]);
    expect(net.logTerms(n1)).toEqual([1, 2, 2]);
  });

  test('a repeated (duplicate) append does not truncate the entries after it', () => {
    const net = solo({ log: { terms: [1, 1, 1, 1, 1, 1], term: 2 } }); // 2..7, uncommitted
    net.deliver(append(n2, 2, [2, 1], [entry(3, 1), entry(4, 1)], 1));
    const rd = net.processReady(n1);
    expect(rd?.entries ?? []).toEqual([]);
    net.stabilize();
    expect(net.node(n1).storage.lastIndex()).toBe(7);
    expect(responses(net, MessageType.MsgAppResp).every((m) => !m.reject)).toBe(true);
  });

  test('a stale append below the commit index changes neither the committed log nor the commit index', () => {
    const net = solo({ log: { terms: [1, 1, 1, 1, 1, 1], term: 2, commit: 5 } });
    net.stabilize();
    receive(net, append(n2, 2, [1, 1], [entry(2, 1)], 1));
    expect(net.node(n1).storage.lastIndex()).toBe(7);
    expect(net.status(n1).commit).toBe(5);
    expect(net.node(n1).hardStates.map((hs) => hs.commit).every((c) => c >= 5)).toBe(true);
  });

  // The follower's log: 2..5 at term 1, commit 1.
  test.each([
    { prev: [5, 1], terms: [2, 2], leaderCommit: 10, commit: 7 },
    { prev: [5, 1], terms: [2, 2], leaderCommit: 6, commit: 6 },
    { prev: [5, 1], terms: [], leaderCommit: 4, commit: 4 },
    { prev: [2, 1], terms: [1], leaderCommit: 10, commit: 3 }, // 4 and 5 are not vouched for
  ] as { prev: [number, number]; terms: number[]; leaderCommit: number; commit: number }[])(
    'if leaderCommit > commitIndex, commitIndex = min(leaderCommit, index of last new entry): prev $prev + $terms, leaderCommit $leaderCommit -> $commit',
    ({ prev, terms, leaderCommit, commit }) => {
      const net = solo({ log: { terms: [1, 1, 1, 1], term: 2 } });
      const entries = terms.map((t, i) => entry(prev[0] + 1 + i, t));
      receive(net, append(n2, 2, prev, entries, leaderCommit));
      expect(net.status(n1).commit).toBe(commit);
      expect(net.node(n1).appliedIndex).toBe(commit);
    },
  );
});

// --- Figure 8: a leader cannot commit an entry of an earlier term by counting replicas ---

describe('Figure 8', () => {
  /**
   * Stage (c), built explicitly (the paper's index i is our i+1):
   *  (a) S1 led term 2 and replicated 2@2 to S2;
   *  (b) S5 was elected for term 3 by S3, S4 and itself and appended 2@3 locally, then crashed;
   *      S1 and S2 had refused it (their logs were more up-to-date) and also moved to term 3;
   *  (c) S1 is elected for term 4 and appends its no-op 3@4; S3 has received 2@2 from it but
   *      3@4 is still in flight everywhere. S2 and S3 acknowledge index 2: the leader knows
   *      2@2 is on a majority (S1, S2, S3).
   */
  function stageC(): Network {
    const logs: Record<string, LogOptions> = {
      '1': { terms: [2], term: 3 },
      '2': { terms: [2], term: 3 },
      '3': { terms: [2], term: 3, vote: n5 },
      '4': { terms: [], term: 3, vote: n5 },
      '5': { terms: [3], term: 3, vote: n5 },
    };
    const net = new Network({ voters: FIVE, log: (id) => logs[String(id)] });
    net.isolate(n5);
    net.dropIf((m) => m.from === n1 && m.type === MessageType.MsgApp); // 3@4 stays in flight
    net.campaign(n1);
    expect(net.leader()).toBe(n1);
    expect(net.status(n1).term).toBe(4);
    expect(net.logTerms(n1)).toEqual([2, 4]);

    for (const from of [n2, n3]) net.deliver(msg(MessageType.MsgAppResp, from, n1, 4, { index: 2 }));
    net.stabilize();
    const progress = net.status(n1).progress;
    expect([progress.get(n2)?.match, progress.get(n3)?.match]).toEqual([2, 2]);
    // 2@2 is on three of five members, yet it is not committed: it is not of term 4.
    expect(net.status(n1).commit).toBe(1);
    for (const id of [n1, n2, n3, n4]) expect(net.node(id).applied).toEqual([]);
    return net;
  }

  test('(d) an earlier-term entry held by a majority is not committed, and indeed can still be overwritten', () => {
    const net = stageC();
    // S1 crashes; S5 comes back and, with its last term 3, wins term 5 with S2, S3 and S4.
    net.heal();
    net.isolate(n1);
    net.campaign(n5); // term 4: S2, S3 and S4 already voted for S1
    if (net.leader() !== n5) net.campaign(n5);
    expect(net.leader()).toBe(n5);
    expect(net.status(n5).term).toBe(5);
    for (const id of [n2, n3, n4, n5]) expect(net.logTerms(id)).toEqual([3, 5]);
    // Had S1 committed 2@2 in (c), a committed entry would now be lost.
    expect(net.node(n1).applied).toEqual([]);
  });

  test('(e) once an entry of the leader\'s term is on a majority, it and the earlier-term entry commit together', () => {
    const net = stageC();
    net.heal();
    net.isolate(n5);
    net.tick(n1); // the next heartbeat makes S1 resend what was lost
    net.stabilize();
    expect(net.status(n1).commit).toBe(3);
    expect(net.node(n1).hardStates.map((hs) => hs.commit)).not.toContain(2);
    for (const id of [n1, n2, n3, n4]) {
      expect(net.node(id).applied.map((e) => [e.index, e.term])).toEqual([
        [2, 2],
        [3, 4],
      ]);
    }
    // S5's uncommitted 2@3 is overwritten when it rejoins.
    net.heal();
    net.tick(n1);
    net.stabilize();
    expect(net.logTerms(n5)).toEqual([2, 4]);
  });
});

// --- Beyond Figure 2: etcd's extensions ---

describe('PreVote', () => {
  test('a partitioned node that rejoins does not bump terms or disrupt the leader', () => {
    const net = clusterWithLeader(THREE, { preVote: true });
    expect(net.status(n1).term).toBe(2);
    net.isolate(n3);
    net.propose(n1, 'x');
    net.stabilize();

    let sawPreCandidate = false;
    for (let i = 0; i < 5 * ELECTION; i++) {
      net.tick(n3);
      net.stabilize();
      sawPreCandidate ||= net.status(n3).state === StateType.PreCandidate;
    }
    expect(sawPreCandidate).toBe(true);
    expect(net.status(n3).term).toBe(2);

    net.heal();
    net.tick(n1);
    net.stabilize();
    expect(net.leader()).toBe(n1);
    for (const id of THREE) expect(net.status(id).term).toBe(2);
    expect(net.status(n3).lead).toBe(n1);
    expect(net.node(n3).state).toEqual(['x']);
  });
});

describe('CheckQuorum', () => {
  test('an isolated leader steps down within an election timeout (checked every electionTick)', () => {
    const net = clusterWithLeader(THREE, { checkQuorum: true });
    net.isolate(n1);
    // The quorum check runs every electionTick ticks: the first one after the partition may
    // still see the followers' earlier replies, the second cannot.
    const ticks = ticksUntil(net, n1, () => net.status(n1).state !== StateType.Leader, 2 * ELECTION);
    expect(ticks).toBeLessThanOrEqual(2 * ELECTION);
    expect(net.status(n1).state).toBe(StateType.Follower);
  });

  test('a leader that hears from a quorum keeps its leadership', () => {
    const net = clusterWithLeader(THREE, { checkQuorum: true });
    net.isolate(n3);
    for (let i = 0; i < 5 * ELECTION; i++) {
      net.tick(n1);
      net.tick(n2);
      net.stabilize();
    }
    expect(net.leader()).toBe(n1);
    expect(net.status(n1).term).toBe(2);
  });
});

describe('Leadership transfer', () => {
  test('to an up-to-date follower: MsgTimeoutNow at once, and the target wins the next term', () => {
    const net = clusterWithLeader();
    net.node(n1).raw.transferLeadership(n2);
    const rd = net.processReady(n1);
    const all = [...(rd?.leaderMessages ?? []), ...(rd?.messages ?? [])];
    expect(all.filter((m) => m.type === MessageType.MsgTimeoutNow).map((m) => m.to)).toEqual([n2]);
    net.stabilize();
    expect(net.leader()).toBe(n2);
    expect(net.status(n2).term).toBe(3);
    expect(net.status(n1).lead).toBe(n2);
  });

  test('to a lagging follower: it is caught up first, and proposals are dropped meanwhile', () => {
    const net = clusterWithLeader();
    net.isolate(n3);
    for (const p of ['a', 'b', 'c']) net.propose(n1, p);
    net.stabilize();
    net.clearSent();

    net.node(n1).raw.transferLeadership(n3);
    net.stabilize();
    expect(net.status(n1).leadTransferee).toBe(n3);
    expect(net.sentBy(n1, MessageType.MsgTimeoutNow)).toEqual([]); // n3 is not caught up
    expectProposalDropped(() => net.propose(n1, 'during transfer'));

    net.heal();
    net.tick(n1); // a heartbeat reveals n3 again; the leader catches it up, then sends MsgTimeoutNow
    net.stabilize();
    expect(net.sentBy(n1, MessageType.MsgTimeoutNow).map((m) => m.to)).toEqual([n3]);
    expect(net.leader()).toBe(n3);
    expect(net.status(n3).term).toBe(3);
    expect(net.node(n3).state).toEqual(['a', 'b', 'c']);
  });
});

describe('ReadIndex', () => {
  const ctx = (s: string): Uint8Array => bytes(s);
  const answered = (net: Network, id: NodeId): [string, number][] =>
    net.node(id).readStates.map((rs) => [text(rs.requestCtx), rs.index]);

  test('safe mode: answered with the commit index only after a quorum acknowledges a heartbeat', () => {
    const net = clusterWithLeader();
    const commit = net.status(n1).commit;
    net.cut(n1, n2);
    net.cut(n1, n3);
    net.node(n1).raw.readIndex(ctx('alone'));
    net.stabilize();
    expect(answered(net, n1)).toEqual([]);

    net.heal();
    net.cut(n1, n3); // n2 alone makes a quorum with the leader
    net.clearSent();
    net.node(n1).raw.readIndex(ctx('with n2'));
    net.stabilize();
    expect(net.sentBy(n1, MessageType.MsgHeartbeat).length).toBeGreaterThan(0);
    expect(answered(net, n1)).toContainEqual(['with n2', commit]);
  });

  test('safe mode: several requests before one ready() share one heartbeat round', () => {
    const net = clusterWithLeader();
    const commit = net.status(n1).commit;
    net.clearSent();
    for (const c of ['a', 'b', 'c']) net.node(n1).raw.readIndex(ctx(c));
    net.stabilize();
    expect(answered(net, n1)).toEqual([
      ['a', commit],
      ['b', commit],
      ['c', commit],
    ]);
    expect(net.sentBy(n1, MessageType.MsgHeartbeat).length).toBe(2); // one per follower
  });

  test('lease-based mode: answered without a heartbeat round', () => {
    const net = clusterWithLeader(THREE, { checkQuorum: true, readOnlyOption: 'lease-based' });
    const commit = net.status(n1).commit;
    net.clearSent();
    net.node(n1).raw.readIndex(ctx('lease'));
    net.stabilize();
    expect(answered(net, n1)).toEqual([['lease', commit]]);
    expect(net.sentBy(n1, MessageType.MsgHeartbeat)).toEqual([]);
  });

  test('a new leader answers only after it has committed an entry of its own term', () => {
    const net = new Network({ voters: THREE });
    const holdAppends = net.dropIf((m) => m.from === n1 && m.type === MessageType.MsgApp);
    net.campaign(n1);
    expect(net.leader()).toBe(n1);
    expect(net.status(n1).commit).toBe(1); // the no-op 2@2 is not committed yet
    net.node(n1).raw.readIndex(ctx('early'));
    net.stabilize();
    net.tick(n1);
    net.stabilize();
    expect(answered(net, n1)).toEqual([]);

    holdAppends();
    ticksUntil(net, n1, () => net.node(n1).readStates.length > 0, 3);
    expect(net.status(n1).commit).toBe(2);
    expect(answered(net, n1)).toEqual([['early', 2]]);
  });
});

describe('Membership changes', () => {
  const change = (type: ConfChangeType, nodeId: NodeId) => ({ type, nodeId });

  /** Node 1 leads voters 1-3; the given members join as learners with empty storage. */
  function withLearners(...ids: NodeId[]): Network {
    const net = clusterWithLeader();
    for (const id of ids) {
      net.addNode(id);
      net.node(n1).raw.proposeConfChange(change(ConfChangeType.AddLearnerNode, id));
      net.stabilize();
      net.tick(n1); // a heartbeat introduces the leader to the new member
      net.stabilize();
    }
    return net;
  }

  test('added learners receive the log (via a snapshot that includes them) but neither vote nor count for commitment', () => {
    const net = withLearners(n4, n5);
    for (const id of [n1, n2, n3]) {
      expect(sorted(net.status(id).config.learners)).toEqual([n4, n5]);
      expect(sorted(net.status(id).config.voters)).toEqual(THREE);
    }
    for (const id of [n4, n5]) {
      expect(net.node(id).restored.length).toBe(1);
      expect(net.status(id).config.learners).toContain(id);
    }
    net.propose(n1, 'x');
    net.stabilize();
    expect(net.node(n4).state).toEqual(['x']);
    expect(net.node(n5).state).toEqual(['x']);

    // With both voting followers away, the leader and two learners are three copies, but not a quorum.
    net.isolate(n2);
    net.isolate(n3);
    const commit = net.status(n1).commit;
    net.propose(n1, 'y');
    net.stabilize();
    for (const id of [n4, n5]) expect(net.log(id).map((e) => text(e.data))).toContain('y');
    expect(net.status(n1).commit).toBe(commit);

    // A learner never campaigns, and candidates do not ask it for a vote.
    net.heal();
    net.clearSent();
    net.campaign(n4);
    expect(net.status(n4).state).toBe(StateType.Follower);
    expect(net.sentBy(n4, MessageType.MsgVote)).toEqual([]);
    net.campaign(n2);
    expect(net.sentBy(n2, MessageType.MsgVote).map((m) => m.to)).not.toContain(n4);
  });

  test('a promoted learner votes and counts for commitment', () => {
    const net = withLearners(n4);
    net.node(n1).raw.proposeConfChange(change(ConfChangeType.AddNode, n4));
    net.stabilize();
    expect(sorted(net.status(n1).config.voters)).toEqual([n1, n2, n3, n4]);
    expect(net.status(n1).config.learners).toEqual([]);

    net.isolate(n2); // 1, 3 and 4 are a majority of four only if 4 counts
    net.propose(n1, 'z');
    net.stabilize();
    expect(net.node(n1).state).toContain('z');
    net.isolate(n3); // 1 and 4: two of four is not a majority
    net.propose(n1, 'w');
    net.stabilize();
    expect(net.node(n1).state).not.toContain('w');
  });

  test('a removed voter no longer counts: the remaining two commit alone', () => {
    const net = clusterWithLeader();
    net.node(n1).raw.proposeConfChange(change(ConfChangeType.RemoveNode, n3));
    net.stabilize();
    for (const id of [n1, n2]) expect(sorted(net.status(id).config.voters)).toEqual([n1, n2]);
    net.isolate(n3);
    net.propose(n1, 'x');
    net.stabilize();
    expect(net.node(n2).state).toEqual(['x']);
  });

  test('a second configuration change is dropped while one is pending', () => {
    const net = clusterWithLeader();
    net.addNode(n4);
    net.addNode(n5);
    net.node(n1).raw.proposeConfChange(change(ConfChangeType.AddLearnerNode, n4));
    expectProposalDropped(() => net.node(n1).raw.proposeConfChange(change(ConfChangeType.AddLearnerNode, n5)));
    net.stabilize();
    expect(net.status(n1).config.learners).toEqual([n4]);
    // Once the first is applied, the next is accepted.
    net.node(n1).raw.proposeConfChange(change(ConfChangeType.AddLearnerNode, n5));
    net.stabilize();
    expect(sorted(net.status(n1).config.learners)).toEqual([n4, n5]);
  });

  test('a leader that is removed steps down when it applies its removal, and the rest elect a new one', () => {
    const net = clusterWithLeader();
    net.node(n1).raw.proposeConfChange(change(ConfChangeType.RemoveNode, n1));
    net.stabilize();
    expect(net.status(n1).state).not.toBe(StateType.Leader);
    for (const id of [n2, n3]) expect(sorted(net.status(id).config.voters)).toEqual([n2, n3]);
    net.campaign(n2);
    expect(net.leader()).toBe(n2);
    net.propose(n2, 'after');
    net.stabilize();
    expect(net.node(n3).state).toEqual(['after']);
  });
});

describe('Snapshots', () => {
  test('a follower that needs compacted entries is sent a snapshot and restores from it', () => {
    const net = clusterWithLeader();
    net.isolate(n3);
    for (let i = 0; i < 10; i++) net.propose(n1, `p${i}`);
    net.stabilize();
    const snap = net.compact(n1);
    expect(snap.metadata.index).toBe(12);

    net.heal();
    net.clearSent();
    net.tick(n1);
    net.stabilize();
    expect(net.sentBy(n1, MessageType.MsgSnap).map((m) => m.to)).toEqual([n3]);
    const follower = net.node(n3);
    expect(follower.restored.map((s) => s.metadata.index)).toEqual([12]);
    expect(follower.storage.snapshot().metadata.index).toBe(12);
    expect(follower.state).toEqual(net.node(n1).state);

    net.propose(n1, 'after');
    net.stabilize();
    expect(follower.state.at(-1)).toBe('after');
    expect(net.logTerms(n3)).toEqual(net.logTerms(n1));
  });
});

describe('Proposals', () => {
  test('a proposal on a follower is forwarded to the leader', () => {
    const net = clusterWithLeader();
    net.propose(n2, 'fwd');
    net.stabilize();
    expect(net.sentBy(n2, MessageType.MsgProp).map((m) => m.to)).toEqual([n1]);
    for (const id of THREE) expect(net.node(id).state).toEqual(['fwd']);
  });

  test('proposals are dropped when no leader is known', () => {
    const net = new Network({ voters: THREE });
    expectProposalDropped(() => net.propose(n1, 'x'));
    expectProposalDropped(() => net.node(n1).raw.proposeConfChange({ type: ConfChangeType.AddLearnerNode, nodeId: n4 }));
    net.node(n1).raw.campaign(); // a candidate knows no leader either
    expectProposalDropped(() => net.propose(n1, 'y'));
  });
});
