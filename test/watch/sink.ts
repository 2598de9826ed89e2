/** A stream sink with a bounded buffer, like etcd's ctrlStream/watchStream channel. */
import type { WatchResponse } from '../../src/watch/index.js';

export class Sink {
  readonly taken: WatchResponse[] = [];
  /** Responses accepted but not yet drained; send fails when it holds `capacity`. */
  buffered = 0;
  refused = 0;

  constructor(public capacity = Number.POSITIVE_INFINITY) {}

  readonly send = (r: WatchResponse): boolean => {
    if (this.buffered >= this.capacity) {
      this.refused++;
      return false;
    }
    this.buffered++;
    this.taken.push(r);
    return true;
  };

  drain(): void {
    this.buffered = 0;
  }

  /** Events received by watch id, as 'rev:type:key[=value]' strings. */
  eventsOf(watchId: number): string[] {
    const out: string[] = [];
    for (const r of this.taken) {
      if (r.watchId !== watchId) continue;
      for (const ev of r.events) {
        const key = new TextDecoder().decode(ev.kv.key);
        const val = new TextDecoder().decode(ev.kv.value);
        out.push(ev.type === 0 ? `${ev.kv.modRevision}:PUT:${key}=${val}` : `${ev.kv.modRevision}:DEL:${key}`);
      }
    }
    return out;
  }
}
