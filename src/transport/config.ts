/**
 * TransportOptions with defaults filled in and bounds checked once, so the rest of the module
 * reads plain numbers. Defaults follow etcd where it has one (a 4096-message stream buffer per
 * peer, 100 ms heartbeats as the unreachable-report interval).
 */
import { assert } from '../util/assert.js';
import type { TransportOptions } from './types.js';

export interface TransportConfig {
  readonly queueLimit: number;
  readonly maxFrameBytes: number;
  readonly maxBatchBytes: number;
  readonly dialTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly unreachableIntervalMs: number;
  readonly snapshotChunkBytes: number;
  readonly snapshotBufferBytes: number;
  readonly snapshotIdleTimeoutMs: number;
  readonly snapshotAckTimeoutMs: number;
  readonly maxInboundConnections: number;
  readonly maxSnapshotSends: number;
  /** How long a connection we are closing may take to flush a last Reject or Ack frame. */
  readonly lingerMs: number;
}

export const DEFAULT_QUEUE_LIMIT = 4096;
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;

export function resolveConfig(o: TransportOptions): TransportConfig {
  const c: TransportConfig = {
    queueLimit: o.queueLimit ?? DEFAULT_QUEUE_LIMIT,
    maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxBatchBytes: o.maxBatchBytes ?? Math.min(DEFAULT_MAX_BATCH_BYTES, o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
    dialTimeoutMs: o.dialTimeoutMs ?? 1000,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 2000,
    writeTimeoutMs: o.writeTimeoutMs ?? 5000,
    backoffMinMs: o.backoffMinMs ?? 50,
    backoffMaxMs: o.backoffMaxMs ?? 1000,
    unreachableIntervalMs: o.unreachableIntervalMs ?? 100,
    snapshotChunkBytes: o.snapshotChunkBytes ?? Math.min(256 * 1024, o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES),
    snapshotBufferBytes: o.snapshotBufferBytes ?? 1024 * 1024,
    snapshotIdleTimeoutMs: o.snapshotIdleTimeoutMs ?? 30_000,
    snapshotAckTimeoutMs: o.snapshotAckTimeoutMs ?? 5 * 60_000,
    maxInboundConnections: o.maxInboundConnections ?? 256,
    maxSnapshotSends: o.maxSnapshotSends ?? 8,
    lingerMs: 1000,
  };
  for (const [name, v] of Object.entries(c)) {
    assert(Number.isSafeInteger(v) && v > 0, `transport: option ${name} must be a positive integer, got ${String(v)}`);
  }
  assert(c.maxBatchBytes <= c.maxFrameBytes, 'transport: maxBatchBytes must not exceed maxFrameBytes');
  assert(c.snapshotChunkBytes <= c.maxFrameBytes, 'transport: snapshotChunkBytes must not exceed maxFrameBytes');
  assert(c.backoffMinMs <= c.backoffMaxMs, 'transport: backoffMinMs must not exceed backoffMaxMs');
  return c;
}
