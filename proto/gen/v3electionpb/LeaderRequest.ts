// Original file: proto/v3electionpb/v3election.proto


export interface LeaderRequestIn {
  'name'?: (Buffer | Uint8Array | string);
}

export interface LeaderRequest {
  'name': (Buffer);
}
