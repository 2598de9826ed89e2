/**
 * The names the test entry point's hooks (src/cli/test-hooks.ts) answer to, shared with the
 * fault-injection harness (jepsen-lite/), which sets them through TSETCD_FAILPOINTS, TSETCD_BUGS
 * and the peer port but does not reach into the server.
 */
export const FAILPOINTS = [
  'beforeWalSave',
  'afterWalSave',
  'beforeApply',
  'afterApply',
  'beforeSnapshotSave',
  'afterSnapshotSave',
  'beforeSnapshotInstall',
  'afterSnapshotInstall',
  'beforeCompaction',
  'beforeWatchResponse',
] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

export const BUGS = [
  /** Linearizable reads are served from local state without a ReadIndex round. */
  'read-without-readindex',
  /** The WAL acknowledges saves without fsyncing them. */
  'ack-before-fsync',
  /** One watch event (every 50th sent on a stream) is left out of its response. */
  'skip-watch-event',
  /** Lock grants the lock at once, without waiting for earlier holders (or their leases). */
  'lock-without-lease-check',
  /** Commit-only hard states are never written, and a restart trusts the old commit index on disk. */
  'stale-commit-restart',
] as const;
export type BugName = (typeof BUGS)[number];
