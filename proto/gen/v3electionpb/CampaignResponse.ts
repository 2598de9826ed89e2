// Original file: proto/v3electionpb/v3election.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { LeaderKeyIn as _v3electionpb_LeaderKeyIn, LeaderKey as _v3electionpb_LeaderKey } from '../v3electionpb/LeaderKey.js';

export interface CampaignResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'leader'?: (_v3electionpb_LeaderKeyIn | null);
}

export interface CampaignResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'leader': (_v3electionpb_LeaderKey | null);
}
