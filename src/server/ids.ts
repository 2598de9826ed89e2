import { createHash } from 'node:crypto';

/**
 * Member and cluster ids, derived as etcd derives them so that every initial member computes the
 * same ids from the same flags: a member's id is the first 8 bytes (big-endian) of
 * sha1(sorted peer URLs joined + cluster token [+ a timestamp for members added later]); the
 * cluster id is the first 8 bytes of sha1 over the sorted member ids.
 */
export function computeMemberId(peerURLs: readonly string[], clusterToken: string, now?: number): bigint {
  const h = createHash('sha1');
  h.update([...peerURLs].sort().join(''));
  h.update(clusterToken);
  if (now !== undefined) h.update(String(now));
  return nonZero(h.digest().readBigUInt64BE(0));
}

export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const h = createHash('sha1');
  const buf = Buffer.alloc(8);
  for (const id of [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    buf.writeBigUInt64BE(id);
    h.update(buf);
  }
  return nonZero(h.digest().readBigUInt64BE(0));
}

function nonZero(id: bigint): bigint {
  return id === 0n ? 1n : id;
}

/** etcd prints ids as lower-case hex without padding. */
export function idToHex(id: bigint): string {
  return id.toString(16);
}

/**
 * Request ids: unique across the cluster's members (the high 16 bits come from the member id)
 * and across restarts (the low 48 bits start from the clock and count up).
 */
export class RequestIdGenerator {
  private next: bigint;
  private readonly prefix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << 48n;
    this.next = (BigInt(nowMs) << 8n) & 0xffff_ffff_ffffn;
  }

  nextId(): bigint {
    this.next = (this.next + 1n) & 0xffff_ffff_ffffn;
    return this.prefix | this.next;
  }
}
