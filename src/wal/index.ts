// The WAL's public surface: the log, the snapshot files, the file-system seam and the errors.
export { Wal, DEFAULT_SEGMENT_BYTES, type WalOptions, type WalOpenOptions, type WalOpenResult, type WalStats } from './wal.js';
export type { WalRepair } from './recover.js';
export { Snapshotter, snapshotFileName, type SnapshotFile, type SnapshotterOptions } from './snapshotter.js';
export { nodeFs, syncDir, type Fs, type FsFile, type OpenFlags } from './fs.js';
export { WalError, WalCorruptError, type WalErrorCode } from './errors.js';
export { EMPTY_HARD_STATE, ZERO_MARKER, type Entry, type HardState, type SnapshotMarker } from './types.js';
