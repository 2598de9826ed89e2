import { Prng } from '../../../src/util/prng.js';

/**
 * Everything one seed decides about a run before it starts: the cluster's shape, the raft
 * options and the fault rates. Rates are per simulation step unless named otherwise.
 *
 * The rates are tuned so that the bugs the simulation exists to catch (votes granted to stale
 * logs, commitment by counting old-term replicas, a leader counting its own unpersisted entries,
 * lost votes) have a chance to surface: crashes land inside Ready handling with unpersisted
 * state, partitions force term churn, and small messages/windows make replication partial.
 */
export interface SimParams {
  readonly seed: number;
  /** Initial voters: 3, 5 or 7. */
  readonly voters: number;
  /** Initial learners (ids after the voters), bootstrapped into every initial member's ConfState. */
  readonly learners: number;
  readonly raft: RaftParams;
  readonly net: NetParams;
  readonly faults: FaultParams;
  readonly work: WorkParams;
}

export interface RaftParams {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly readOnlyOption: 'safe' | 'lease-based';
  readonly maxSizePerMsg?: number;
  readonly maxInflightMsgs?: number;
}

export interface NetParams {
  /** Probability that a sent message is lost. */
  readonly dropRate: number;
  /** Probability that a sent message is delivered twice. */
  readonly dupRate: number;
  /** Probability that a message gets an extra delay of up to `reorderDelaySteps`. */
  readonly reorderRate: number;
  readonly reorderDelaySteps: number;
  /** Every message takes 1..baseDelaySteps steps. */
  readonly baseDelaySteps: number;
  /** Probability that a dropped message is reported to its sender as unreachable. */
  readonly reportUnreachableRate: number;
}

export interface FaultParams {
  /** A random node (often the leader) crashes. */
  readonly crashRate: number;
  /** Per handled Ready: crash at one of the named crash points inside the handler. */
  readonly crashInReadyRate: number;
  readonly minDownSteps: number;
  readonly maxDownSteps: number;
  /** A new symmetric partition (or leader isolation) or one-way cut. */
  readonly partitionRate: number;
  readonly oneWayRate: number;
  readonly healRate: number;
}

export interface WorkParams {
  /** Expected ticks per node per step come from these two: all nodes at once, or each alone. */
  readonly tickAllRate: number;
  readonly tickOneRate: number;
  readonly proposeRate: number;
  readonly maxPaddingBytes: number;
  readonly readRate: number;
  readonly confChangeRate: number;
  readonly transferRate: number;
  readonly campaignRate: number;
  /** After an input to a node, handle its Ready at once (else at the end of the step). */
  readonly eagerReadyRate: number;
  /** The Ready's persistence (and everything after it) waits 1..maxPersistDelaySteps steps. */
  readonly asyncPersistRate: number;
  readonly maxPersistDelaySteps: number;
  /** The leader sends rd.leaderMessages before persisting (the parallel path). */
  readonly leaderParallelRate: number;
  /** Snapshot when this many entries were applied since the last snapshot. */
  readonly snapshotEvery: number;
  /** compact(applied - keep) with keep drawn in [0, maxKeepEntries]. */
  readonly maxKeepEntries: number;
}

export type SimParamsOverrides = {
  readonly voters?: number;
  readonly learners?: number;
  readonly raft?: Partial<RaftParams>;
  readonly net?: Partial<NetParams>;
  readonly faults?: Partial<FaultParams>;
  readonly work?: Partial<WorkParams>;
};

/**
 * Draws a seed's parameters from its own Prng stream (seeded from the seed), so that a seed's
 * shape can be computed without running it (the test groups seeds by cluster size).
 */
export function paramsForSeed(seed: number, overrides: SimParamsOverrides = {}): SimParams {
  const p = new Prng(seed ^ 0x51a0_c0de);
  const voters = overrides.voters ?? p.pick([3, 3, 5, 5, 5, 7]);
  const learners = overrides.learners ?? (p.chance(0.3) ? p.range(1, 2) : 0);

  const checkQuorum = p.chance(0.75);
  const preVote = p.chance(0.7);
  const leaseBased = checkQuorum && p.chance(0.15);
  const smallMessages = p.chance(0.3);
  const smallWindow = p.chance(0.3);
  const raft: RaftParams = {
    electionTick: 10,
    heartbeatTick: 1,
    checkQuorum,
    preVote,
    readOnlyOption: leaseBased ? 'lease-based' : 'safe',
    ...(smallMessages ? { maxSizePerMsg: p.pick([1, 64, 200]) } : {}),
    ...(smallWindow ? { maxInflightMsgs: p.range(1, 4) } : {}),
    ...overrides.raft,
  };

  // One seed in seven is a "storm": heavy loss, frequent crashes and partitions.
  const storm = p.chance(0.15) ? 2 : 1;
  const net: NetParams = {
    dropRate: Math.min(0.3, p.pick([0, 0.01, 0.03, 0.06, 0.1]) * storm),
    dupRate: p.pick([0, 0.01, 0.03]),
    reorderRate: p.pick([0, 0.05, 0.15]),
    reorderDelaySteps: p.range(2, 12),
    baseDelaySteps: p.range(1, 3),
    reportUnreachableRate: p.pick([0, 0.5]),
    ...overrides.net,
  };
  const faults: FaultParams = {
    crashRate: p.pick([0.002, 0.004, 0.008, 0.012]) * storm,
    crashInReadyRate: p.pick([0.002, 0.005, 0.01]) * storm,
    minDownSteps: 1,
    maxDownSteps: p.pick([10, 40, 100]),
    partitionRate: p.pick([0.002, 0.005, 0.01]) * storm,
    oneWayRate: p.pick([0, 0.002, 0.005]),
    healRate: p.pick([0.01, 0.03, 0.06]),
    ...overrides.faults,
  };
  const work: WorkParams = {
    tickAllRate: p.pick([0.1, 0.2, 0.3]),
    tickOneRate: p.pick([0.1, 0.2]),
    proposeRate: p.pick([0.15, 0.3, 0.5]),
    maxPaddingBytes: p.pick([0, 16, 64]),
    readRate: p.pick([0.02, 0.05, 0.1]),
    confChangeRate: p.pick([0, 0.004, 0.01, 0.02]),
    transferRate: p.pick([0, 0.002, 0.005]),
    campaignRate: p.pick([0, 0.002, 0.005]),
    eagerReadyRate: p.pick([0.3, 0.7, 1]),
    asyncPersistRate: p.pick([0, 0.2, 0.5]),
    maxPersistDelaySteps: p.range(1, 4),
    leaderParallelRate: p.pick([0.5, 1, 1]),
    snapshotEvery: p.pick([5, 20, 60]),
    maxKeepEntries: p.pick([0, 0, 3, 10]),
    ...overrides.work,
  };
  return { seed, voters, learners, raft, net, faults, work };
}

export function describeParams(p: SimParams): string {
  const r = p.raft;
  return (
    `voters=${p.voters} learners=${p.learners} checkQuorum=${r.checkQuorum} preVote=${r.preVote} read=${r.readOnlyOption}` +
    ` maxSizePerMsg=${r.maxSizePerMsg ?? '-'} maxInflight=${r.maxInflightMsgs ?? '-'}` +
    ` drop=${p.net.dropRate} dup=${p.net.dupRate} reorder=${p.net.reorderRate}` +
    ` crash=${p.faults.crashRate} crashInReady=${p.faults.crashInReadyRate} partition=${p.faults.partitionRate}` +
    ` async=${p.work.asyncPersistRate} conf=${p.work.confChangeRate}`
  );
}
