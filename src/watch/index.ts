/**
 * src/watch: etcd's watchable store (synced, unsynced and victim watchers) as a library the
 * server wires: it calls notify() after each applied revision and syncOnce() on its own
 * schedule. This is the one export list.
 */
export { WatchHub, WatchStream, DUPLICATE_WATCH_ID, type WatchHubOptions } from './hub.js';
export { fillPrevKvs, type KvAt } from './prev-kv.js';
export {
  FilterType,
  type HistoryBatch,
  type WatchHistory,
  type WatchRequest,
  type WatchResponse,
  type WatchSend,
} from './types.js';
