/**
 * Virtual time for the cluster simulation. Every timer, disk completion and network delivery of
 * every member is an event in one queue, ordered by (time, sequence); the run loop takes the
 * next one, moves the clock to it, runs it, and lets the promises it settled run to quiescence
 * (one macrotask turn: Node drains process.nextTick and the microtask queue completely before
 * the next turn). Nothing in the simulation touches real time, real I/O or unseeded randomness,
 * so one seed gives one run.
 *
 * Events belong to an owner (a member's incarnation, a client, the nemesis); when a member
 * crashes its incarnation is killed and its pending events are dropped, so its timers never fire
 * and its disk writes never complete, as for a process that is gone.
 */
import type { Clock, TimerHandle, Timers } from '../../src/server/env.js';

/** Something events can belong to; a dead owner's events are dropped. */
export class Owner {
  alive = true;
  constructor(readonly name: string) {}
  kill(): void {
    this.alive = false;
  }
}

interface SimEvent {
  readonly at: number;
  readonly seq: number;
  readonly owner: Owner;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A binary min-heap of events by (at, seq). */
class EventHeap {
  private readonly items: SimEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  push(e: SimEvent): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i] as SimEvent, a[parent] as SimEvent)) break;
      [a[i], a[parent]] = [a[parent] as SimEvent, a[i] as SimEvent];
      i = parent;
    }
  }

  pop(): SimEvent | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l] as SimEvent, a[m] as SimEvent)) m = l;
        if (r < a.length && before(a[r] as SimEvent, a[m] as SimEvent)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as SimEvent, a[i] as SimEvent];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class Scheduler {
  /** Virtual milliseconds since the run started. */
  now = 0;
  /** Events run so far. */
  steps = 0;
  private seq = 0;
  private readonly queue = new EventHeap();

  /** Runs fn at virtual time now + ms (ms ≥ 0), unless its owner is dead by then. */
  at(ms: number, owner: Owner, fn: () => void): TimerHandle {
    const e: SimEvent = { at: this.now + Math.max(0, ms), seq: this.seq++, owner, fn, cancelled: false };
    this.queue.push(e);
    return { cancel: () => (e.cancelled = true) };
  }

  /** A promise that resolves ms from now (never, when the owner dies first). */
  sleep(ms: number, owner: Owner): Promise<void> {
    return new Promise((resolve) => this.at(ms, owner, resolve));
  }

  /**
   * Runs events until virtual time `untilMs`, `stop()` says so, or maxSteps events ran. Between
   * events the promises each settled run to quiescence, on this process's real event loop.
   */
  async run(untilMs: number, maxSteps: number, stop: () => boolean = () => false): Promise<void> {
    for (let i = 0; i < maxSteps && !stop(); i++) {
      const e = this.queue.pop();
      if (e === undefined || e.at > untilMs) {
        if (e !== undefined) this.queue.push(e);
        this.now = Math.max(this.now, untilMs);
        await turn();
        return;
      }
      this.now = e.at;
      if (e.cancelled || !e.owner.alive) continue;
      this.steps++;
      e.fn();
      await turn();
    }
  }

  /** The clock and timers of one owner; `offsetMs()` is its clock's distance from true time. */
  clockFor(offsetMs: () => number): Clock {
    // Integer milliseconds, as Date.now() gives.
    return { nowMs: () => SIM_EPOCH_MS + Math.floor(this.now + offsetMs()) };
  }

  timersFor(owner: Owner): Timers {
    return {
      after: (ms, fn) => this.at(ms, owner, fn),
      every: (ms, fn) => {
        let handle: TimerHandle;
        const tick = (): void => {
          handle = this.at(ms, owner, tick);
          fn();
        };
        handle = this.at(ms, owner, tick);
        return { cancel: () => handle.cancel() };
      },
      yield: () => this.sleep(0, owner),
    };
  }
}

/** The wall-clock time the simulation starts at (members' clocks read it plus virtual time). */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);
