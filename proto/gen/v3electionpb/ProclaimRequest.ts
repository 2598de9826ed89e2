// Original file: proto/v3electionpb/v3election.proto

import type { LeaderKeyIn as _v3electionpb_LeaderKeyIn, LeaderKey as _v3electionpb_LeaderKey } from '../v3electionpb/LeaderKey.js';

export interface ProclaimRequestIn {
  'leader'?: (_v3electionpb_LeaderKeyIn | null);
  'value'?: (Buffer | Uint8Array | string);
}

export interface ProclaimRequest {
  'leader': (_v3electionpb_LeaderKey | null);
  'value': (Buffer);
}
