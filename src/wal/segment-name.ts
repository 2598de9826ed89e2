/**
 * Segment file names: `<seq 16 hex>-<firstIndex 16 hex>.wal`, e.g.
 * `0000000000000002-00000000000004d3.wal` is the third segment, begun when the log ended at
 * index 0x4d2 (1234). Sequence numbers are contiguous; a gap means a segment went missing.
 *
 * firstIndex is "the index the next entry would have had" when the segment was begun. Raft may
 * later rewrite lower indexes into it (a new leader truncating a follower's tail), but every
 * entry at or above firstIndex that is still part of the log lives in this segment or a later
 * one, which is what releaseTo relies on.
 */
import { assert } from '../util/assert.js';

export const SEGMENT_SUFFIX = '.wal';
export const TEMP_SUFFIX = '.tmp';

export interface SegmentName {
  readonly seq: number;
  readonly firstIndex: number;
  readonly name: string;
}

function hex16(n: number): string {
  assert(Number.isSafeInteger(n) && n >= 0, `wal: ${n} cannot be a segment name field`);
  return n.toString(16).padStart(16, '0');
}

export function segmentName(seq: number, firstIndex: number): SegmentName {
  return { seq, firstIndex, name: `${hex16(seq)}-${hex16(firstIndex)}${SEGMENT_SUFFIX}` };
}

const PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/** The parsed name, or undefined for anything else in the directory. */
export function parseSegmentName(name: string): SegmentName | undefined {
  const m = PATTERN.exec(name);
  if (m === null) return undefined;
  const seq = Number.parseInt(m[1] as string, 16);
  const firstIndex = Number.parseInt(m[2] as string, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, name };
}
