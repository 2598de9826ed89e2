/**
 * The Recorder (items 22–23): appends client and nemesis events to `<run>/history.jsonl` and
 * finished watch requests to `<run>/watch/<watcher>.jsonl`.
 *
 * Events are numbered (`index`) and time-stamped (`time_ns`, process.hrtime.bigint() minus the
 * run's start) here, in the order the calls arrive, which is the real-time order of the calls.
 * Lines are buffered and written with one synchronous write per file every `flushMs` (or when a
 * buffer passes `maxBufferBytes`), and at close(), so a crash of the harness loses at most one
 * period of history and the event loop never waits on a half-written line.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { ClientEvent, NemesisEvent, WatchRecord } from './history.js';
import type { Recorder } from './types.js';

export interface RecorderOptions {
  readonly flushMs?: number;
  readonly maxBufferBytes?: number;
  /** The run's start, from process.hrtime.bigint(); default: now. */
  readonly startNs?: bigint;
}

class Sink {
  private lines: string[] = [];
  private bytes = 0;
  private fd: number | undefined;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
  ) {}

  push(line: string): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    if (this.bytes >= this.maxBytes) this.flush();
  }

  flush(): void {
    if (this.lines.length === 0) return;
    this.fd ??= openSync(this.file, 'a');
    const buf = Buffer.from(this.lines.join('\n') + '\n', 'utf8');
    this.lines = [];
    this.bytes = 0;
    // writeSync may write less than asked; bounded by the buffer's length.
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export class FileRecorder implements Recorder {
  readonly startNs: bigint;
  private index = 0;
  private nextProcess = 0;
  private readonly history: Sink;
  private readonly watches = new Map<string, Sink>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxBufferBytes: number;
  private closed = false;
  /** Counts by type, for the progress line. */
  readonly counts = { invoke: 0, ok: 0, fail: 0, info: 0, nemesis: 0 };

  constructor(
    readonly runDir: string,
    opts: RecorderOptions = {},
  ) {
    this.startNs = opts.startNs ?? process.hrtime.bigint();
    this.maxBufferBytes = opts.maxBufferBytes ?? 1 << 20;
    mkdirSync(path.join(runDir, 'watch'), { recursive: true });
    this.history = new Sink(path.join(runDir, 'history.jsonl'), this.maxBufferBytes);
    this.timer = setInterval(() => this.flush(), opts.flushMs ?? 500);
    this.timer.unref();
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  client(e: Omit<ClientEvent, 'index' | 'time_ns'> & { time_ns?: number }): ClientEvent {
    this.assertOpen();
    const { time_ns, ...rest } = e;
    if (typeof rest.process !== 'number' || !Number.isInteger(rest.process)) throw new Error(`client event with bad process ${String(rest.process)}`);
    const event: ClientEvent = { index: this.index++, time_ns: time_ns ?? this.now(), ...rest };
    this.counts[event.type]++;
    this.history.push(JSON.stringify(event));
    return event;
  }

  nemesis(f: string, value?: unknown): NemesisEvent {
    this.assertOpen();
    const event: NemesisEvent = { index: this.index++, time_ns: this.now(), process: 'nemesis', type: 'info', f, ...(value === undefined ? {} : { value }) };
    this.counts.nemesis++;
    this.history.push(JSON.stringify(event));
    return event;
  }

  watch(record: WatchRecord): void {
    this.assertOpen();
    if (!/^[A-Za-z0-9._-]+$/.test(record.watcher)) throw new Error(`watcher name ${JSON.stringify(record.watcher)} is not a safe file name`);
    let sink = this.watches.get(record.watcher);
    if (sink === undefined) {
      sink = new Sink(path.join(this.runDir, 'watch', `${record.watcher}.jsonl`), this.maxBufferBytes);
      this.watches.set(record.watcher, sink);
    }
    sink.push(JSON.stringify(record));
  }

  newProcess(): number {
    return this.nextProcess++;
  }

  flush(): void {
    this.history.flush();
    for (const s of this.watches.values()) s.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.history.close();
    for (const s of this.watches.values()) s.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('recorder is closed');
  }
}
