/**
 * "At most once per interval": limits how often one peer's unreachable report and repeated log
 * lines go out. A peer that is down would otherwise report on every send, i.e. many times per
 * heartbeat.
 */
export class RateGate {
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly intervalMs: number) {}

  /** True (and the interval restarts) if the last pass was at least intervalMs ago. */
  tryPass(nowMs: number): boolean {
    if (nowMs - this.lastMs < this.intervalMs) return false;
    this.lastMs = nowMs;
    return true;
  }
}
