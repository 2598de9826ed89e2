// The Raft core's public surface. Everything here is pure and deterministic: no timers, sockets,
// disks, clocks or randomness of its own.
export { RawNode, type Status } from './raw-node.js';
export type { Config } from './raft.js';
export { MemoryStorage, limitSize, type Storage } from './storage.js';
export { RaftError, type RaftErrorCode } from './errors.js';
export { quorumSize, committedIndex } from './tracker.js';
export * from './types.js';
