// Original file: proto/v3electionpb/v3election.proto

import type { LeaderKeyIn as _v3electionpb_LeaderKeyIn, LeaderKey as _v3electionpb_LeaderKey } from '../v3electionpb/LeaderKey.js';

export interface ResignRequestIn {
  'leader'?: (_v3electionpb_LeaderKeyIn | null);
}

export interface ResignRequest {
  'leader': (_v3electionpb_LeaderKey | null);
}
