/**
 * The simulation's flight recorder. It keeps the last `capacity` events for the failure report
 * (formatted only when printed, since most runs never print) and folds every event of the run
 * into a rolling FNV-1a hash, which the determinism test compares between two runs of a seed.
 *
 * Example: add(12, 'deliver', 1, 2, 5, 40, () => 'MsgApp ents=3') shows as
 *   "#12 deliver 1 2 5 40 MsgApp ents=3".
 */
export class Trace {
  private readonly ring: TraceEvent[] = [];
  private next = 0;
  private hashValue = 0x811c9dc5;
  private eventCount = 0;

  constructor(
    private readonly capacity = 200,
    /** Verbose mode: every event is printed as it happens. */
    private readonly echo?: (line: string) => void,
  ) {}

  /** Numbers and `kind` feed the hash; `note` does only when it is a plain string. Raft's own
   * log lines ('log') do not: verbose mode records more of them. */
  add(step: number, kind: string, a = 0, b = 0, c = 0, d = 0, note?: string | (() => string)): void {
    if (kind !== 'log') this.addToHash(step, kind, a, b, c, d, note);
    this.eventCount++;
    const ev: TraceEvent = { step, kind, a, b, c, d, note };
    if (this.ring.length < this.capacity) this.ring.push(ev);
    else this.ring[this.next] = ev;
    this.next = (this.next + 1) % this.capacity;
    if (this.echo !== undefined) this.echo(format(ev));
  }

  private addToHash(step: number, kind: string, a: number, b: number, c: number, d: number, note: string | (() => string) | undefined): void {
    let h = this.hashValue;
    h = mix(h, step);
    for (let i = 0; i < kind.length; i++) h = mix(h, kind.charCodeAt(i));
    h = mix(mix(mix(mix(h, a), b), c), d);
    if (typeof note === 'string') for (let i = 0; i < note.length; i++) h = mix(h, note.charCodeAt(i));
    this.hashValue = h;
  }

  /** Fold extra state (e.g. the final hard states) into the hash without recording an event. */
  fold(n: number): void {
    this.hashValue = mix(this.hashValue, n);
  }

  get hash(): number {
    return this.hashValue >>> 0;
  }

  get count(): number {
    return this.eventCount;
  }

  /** The recorded events, oldest first, one per line. */
  dump(): string {
    const n = this.ring.length;
    const start = n < this.capacity ? 0 : this.next;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(format(this.ring[(start + i) % n] as TraceEvent));
    return lines.join('\n');
  }
}

interface TraceEvent {
  readonly step: number;
  readonly kind: string;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly note: string | (() => string) | undefined;
}

function format(ev: TraceEvent): string {
  const note = typeof ev.note === 'function' ? ev.note() : (ev.note ?? '');
  return `#${ev.step} ${ev.kind} ${ev.a} ${ev.b} ${ev.c} ${ev.d}${note === '' ? '' : ' ' + note}`;
}

function mix(h: number, x: number): number {
  // Numbers here are small non-negative integers (ids, terms, indexes); fold both 32-bit halves.
  const lo = x >>> 0;
  const hi = Math.floor(x / 4294967296) >>> 0;
  h = Math.imul(h ^ lo, 16777619);
  return Math.imul(h ^ hi, 16777619);
}
