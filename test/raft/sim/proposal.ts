/**
 * The payload of the simulation's Normal entries: [kind u8][id u32 BE][padding...]. Ids are
 * unique within a run, so an entry's data names the proposal it came from; the padding varies
 * entry sizes to exercise maxSizePerMsg.
 *
 * Example: encodeProposal(ProposalKind.Write, 7, 2) = [1, 0,0,0,7, 0xaa,0xaa].
 */
export enum ProposalKind {
  Write = 1,
  /** Proposed by the liveness check; it must commit on every live voter. */
  Marker = 2,
}

export function encodeProposal(kind: ProposalKind, id: number, paddingBytes: number): Uint8Array {
  const out = new Uint8Array(5 + paddingBytes);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, id);
  out.fill(0xaa, 5);
  return out;
}

export function decodeProposal(data: Uint8Array): { kind: ProposalKind; id: number } | undefined {
  if (data.byteLength < 5) return undefined;
  const kind = data[0];
  if (kind !== ProposalKind.Write && kind !== ProposalKind.Marker) return undefined;
  return { kind, id: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1) };
}

/** A read request's context: the request's id as 4 bytes. */
export function encodeReadCtx(id: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, id);
  return out;
}

export function decodeReadCtx(ctx: Uint8Array): number | undefined {
  if (ctx.byteLength !== 4) return undefined;
  return new DataView(ctx.buffer, ctx.byteOffset, 4).getUint32(0);
}
