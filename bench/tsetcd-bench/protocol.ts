/**
 * Messages between tsetcd-bench's main thread (which only coordinates, reports and draws the
 * progress bar) and its worker threads (which hold the connections and generate the load).
 *
 * Coordination that must be cheap goes through one shared Int32Array (CTL_*): workers claim
 * request numbers from one counter, so clients on every thread take work from a single queue as
 * etcd's clients take it from one channel, and count completions there for the progress bar.
 * Latencies travel once, at the end, as transferred Float64Arrays of seconds.
 */

/** Next request number to claim (Atomics.add). */
export const CTL_NEXT = 0;
/** Requests completed, failed ones included. */
export const CTL_DONE = 1;
/** Watch events received. */
export const CTL_EVENTS = 2;
/** Watchers created. */
export const CTL_CREATED = 3;
/** Non-zero: stop claiming new requests (Ctrl-C, deadline). */
export const CTL_STOP = 4;
export const CTL_SLOTS = 8;

/** One gRPC connection (an EtcdClient with one endpoint) a worker holds. */
export interface ConnSpec {
  readonly index: number;
  readonly endpoint: string;
}

/** What each client of a unary run does with request number i. */
export type Job =
  | { readonly kind: 'put'; readonly keySize: number; readonly keySpaceSize: number; readonly sequential: boolean; readonly value: Uint8Array }
  | { readonly kind: 'range'; readonly key: Uint8Array; readonly end: Uint8Array; readonly serializable: boolean; readonly limit: number }
  | { readonly kind: 'txn-put'; readonly keySize: number; readonly keySpaceSize: number; readonly txnOps: number; readonly value: Uint8Array }
  | { readonly kind: 'lease-keepalive'; readonly ttlSeconds: number }
  | {
      readonly kind: 'stm';
      readonly keys: number;
      readonly keysPerTxn: number;
      readonly writePercent: number;
      readonly valSize: number;
      readonly isolation: 'c' | 'r' | 's' | 'ss';
      /** 'stm': optimistic only; otherwise each transaction holds a mutex (lockers.ts). */
      readonly locker: 'stm' | 'lock-client' | 'lock-rpc';
    }
  /** Put number i goes to keys[i mod keys.length]; its value starts with the send time (float64 LE, epoch ms). */
  | { readonly kind: 'timed-put'; readonly keys: readonly Uint8Array[]; readonly valSize: number };

/** A client: its global number and the local connection it uses. */
export interface ClientSpec {
  readonly index: number;
  readonly conn: number;
}

/** A watch stream and the key of each of its watchers, in create order. */
export interface StreamSpec {
  readonly index: number;
  readonly conn: number;
  readonly keys: readonly Uint8Array[];
}

export type Order =
  | { readonly type: 'open'; readonly id: number; readonly conns: readonly ConnSpec[]; readonly timeoutMs: number; readonly ctl: SharedArrayBuffer }
  | { readonly type: 'prepare'; readonly id: number; readonly job: Job; readonly clients: readonly ClientSpec[] }
  /** Runs the prepared clients until `total` requests are claimed; request i starts no earlier than startAt + i/rate. */
  | { readonly type: 'run'; readonly id: number; readonly startAt: number; readonly total: number; readonly rate: number }
  | { readonly type: 'watch'; readonly id: number; readonly streams: readonly StreamSpec[]; readonly prevKv: boolean }
  | { readonly type: 'collect'; readonly id: number }
  | { readonly type: 'close'; readonly id: number };

export interface RunReply {
  readonly type: 'ran';
  readonly id: number;
  readonly lats: Float64Array<ArrayBuffer>;
  readonly errors: [string, number][];
  /** Epoch ms of the last completion (NaN when none). */
  readonly lastEndAt: number;
  readonly elu: number;
  /** This thread's CPU over the run, percent of one core. */
  readonly threadCpu: number;
  /** STM: commits that failed their compares and were run again. */
  readonly retries: number;
}

export interface WatchReply {
  readonly type: 'watching';
  readonly id: number;
  /** Create request sent to `created` received, per watcher, seconds. */
  readonly lats: Float64Array<ArrayBuffer>;
  readonly errors: [string, number][];
}

export interface CollectReply {
  readonly type: 'collected';
  readonly id: number;
  /** Event received minus its put's send time, per event, seconds. */
  readonly lats: Float64Array<ArrayBuffer>;
  /** Events whose value carried no send time. */
  readonly unattributed: number;
  readonly errors: [string, number][];
  readonly lastEventAt: number;
  readonly elu: number;
  readonly threadCpu: number;
}

export type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'opened'; readonly id: number }
  | { readonly type: 'prepared'; readonly id: number; readonly errors: [string, number][] }
  | RunReply
  | WatchReply
  | CollectReply
  | { readonly type: 'closed'; readonly id: number }
  | { readonly type: 'fatal'; readonly id: number; readonly error: string };

/** Wall-clock milliseconds with sub-ms resolution, comparable across the threads of one process. */
export const nowMs = (): number => performance.timeOrigin + performance.now();
