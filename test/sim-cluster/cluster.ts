/**
 * A simulated cluster: its nodes over one scheduler and network, the operations a nemesis or a
 * test runs on it (crash, restart, partition, clock jump, membership changes), and the
 * invariants checked after every event:
 *
 * - election safety: at most one leader per term, over all members and incarnations;
 * - no member leads under a configuration it has already left: each member's highest applied
 *   configuration change is remembered across its restarts (a ghost), and while it leads, the
 *   configuration in force must date from that change or later (applier.configIndex).
 */
import { Prng } from '../../src/util/prng.js';
import type { BugName } from '../../src/util/test-hook-names.js';
import { History } from './history.js';
import { Owner, Scheduler } from './scheduler.js';
import { SimNetwork, type NetParams } from './sim-network.js';
import { SimNode, type NodeParams } from './sim-node.js';

export interface ClusterParams {
  readonly seed: number;
  /** Nodes bootstrapped together (n1..nK). */
  readonly initial: number;
  /** Slots that membership changes may add (n(K+1)..). */
  readonly spare: number;
  readonly net: NetParams;
  readonly node: Omit<NodeParams, 'bugs'>;
  readonly bugs: readonly BugName[];
}

export class Violation extends Error {
  override readonly name = 'Violation';
}

export class Cluster {
  readonly sched = new Scheduler();
  readonly prng: Prng;
  readonly net: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly history: History;
  readonly owner = new Owner('cluster');
  readonly violations: string[] = [];
  private readonly seen = new Set<string>();
  /** Highest configuration change each node has applied, over all its incarnations. */
  private readonly ghostConfig = new Map<string, number>();
  private readonly leaderOfTerm = new Map<number, string>();
  /** Times a node became leader (for tests). */
  readonly leaderships: { node: string; term: number; at: number }[] = [];
  private readonly wasLeader = new Map<string, number>();

  constructor(readonly params: ClusterParams) {
    this.prng = new Prng(params.seed);
    this.net = new SimNetwork(this.sched, this.prng.fork(), params.net);
    this.history = new History(this.sched);
    const bugs = new Set(params.bugs);
    for (let i = 1; i <= params.initial + params.spare; i++) {
      this.nodes.push(new SimNode(`n${i}`, this.sched, this.net, this.prng.fork(), { ...params.node, bugs }));
    }
  }

  node(name: string): SimNode {
    const n = this.nodes.find((x) => x.name === name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  get up(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }

  /** Nodes that are (or were meant to be) members: bootstrapped or added, not removed. */
  members: Set<string> = new Set();

  /** Bootstraps n1..nK as a new cluster. */
  async bootstrap(): Promise<void> {
    const initial = this.nodes.slice(0, this.params.initial);
    for (const n of initial) this.members.add(n.name);
    await Promise.all(initial.map((n) => n.start(this.initialCluster(), 'new')));
  }

  /** --initial-cluster for a node (re)starting now: every member's name and peer URL. */
  initialCluster(): Map<string, string> {
    return new Map(this.nodes.filter((n) => this.members.has(n.name)).map((n) => [n.name, n.peerUrl]));
  }

  async restart(n: SimNode): Promise<void> {
    if (n.state === 'up' || n.state === 'starting' || n.state === 'removed' || !this.members.has(n.name)) return;
    const bootstrapped = this.nodes.indexOf(n) < this.params.initial;
    await n.start(this.initialCluster(), bootstrapped ? 'new' : 'existing');
  }

  /** Runs the simulation until `untilMs` (virtual), checking the invariants after every event. */
  async runUntil(untilMs: number, maxSteps = 5_000_000): Promise<void> {
    await this.sched.run(untilMs, maxSteps, () => {
      this.check();
      return this.violations.length > 0;
    });
  }

  /** Runs `body` inside the simulation (it awaits virtual time) until it settles. */
  async drive<T>(body: Promise<T>, limitMs: number): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    body.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        error = e;
      },
    );
    const until = this.sched.now + limitMs;
    await this.sched.run(until, 50_000_000, () => {
      this.check();
      return done || this.violations.length > 0;
    });
    if (this.violations.length > 0) throw new Violation(this.violations.join('\n'));
    if (!done) throw new Error(`did not finish within ${limitMs} ms of simulated time`);
    if (error !== undefined) throw error;
    return value as T;
  }

  private check(): void {
    for (const n of this.nodes) {
      if (!n.up) continue;
      const member = n.server?.member;
      if (member === undefined || !member.isRunning) continue;
      const p = member.parts;
      const configIndex = p.applier.configIndex;
      const ghost = this.ghostConfig.get(n.name) ?? 0;
      if (configIndex > ghost) this.ghostConfig.set(n.name, configIndex);
      if (!p.node.isLeader()) {
        this.wasLeader.delete(n.name);
        continue;
      }
      const term = p.node.term();
      if (this.wasLeader.get(n.name) !== term) {
        this.wasLeader.set(n.name, term);
        this.leaderships.push({ node: n.name, term, at: this.sched.now });
      }
      const other = this.leaderOfTerm.get(term);
      if (other !== undefined && other !== n.name) this.violate(`two leaders in term ${term}: ${other} and ${n.name}`);
      this.leaderOfTerm.set(term, n.name);
      if (configIndex < ghost) {
        this.violate(`${n.name} leads in term ${term} under the configuration of index ${configIndex}, after it applied the change at index ${ghost}`);
      }
    }
  }

  private violate(what: string): void {
    if (this.seen.has(what)) return;
    this.seen.add(what);
    this.violations.push(`${this.sched.now.toFixed(1)} ms: ${what}`);
  }

  /** The highest configuration change a node ever applied (tests). */
  ghostConfigOf(name: string): number {
    return this.ghostConfig.get(name) ?? 0;
  }
}
