// Original file: proto/v3electionpb/v3election.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { CampaignRequestIn as _v3electionpb_CampaignRequestIn, CampaignRequest as _v3electionpb_CampaignRequest } from '../v3electionpb/CampaignRequest.js';
import type { CampaignResponseIn as _v3electionpb_CampaignResponseIn, CampaignResponse as _v3electionpb_CampaignResponse } from '../v3electionpb/CampaignResponse.js';
import type { LeaderRequestIn as _v3electionpb_LeaderRequestIn, LeaderRequest as _v3electionpb_LeaderRequest } from '../v3electionpb/LeaderRequest.js';
import type { LeaderResponseIn as _v3electionpb_LeaderResponseIn, LeaderResponse as _v3electionpb_LeaderResponse } from '../v3electionpb/LeaderResponse.js';
import type { ProclaimRequestIn as _v3electionpb_ProclaimRequestIn, ProclaimRequest as _v3electionpb_ProclaimRequest } from '../v3electionpb/ProclaimRequest.js';
import type { ProclaimResponseIn as _v3electionpb_ProclaimResponseIn, ProclaimResponse as _v3electionpb_ProclaimResponse } from '../v3electionpb/ProclaimResponse.js';
import type { ResignRequestIn as _v3electionpb_ResignRequestIn, ResignRequest as _v3electionpb_ResignRequest } from '../v3electionpb/ResignRequest.js';
import type { ResignResponseIn as _v3electionpb_ResignResponseIn, ResignResponse as _v3electionpb_ResignResponse } from '../v3electionpb/ResignResponse.js';

export interface ElectionDefinition {
  Campaign: MethodDefinition<_v3electionpb_CampaignRequestIn, _v3electionpb_CampaignResponseIn, _v3electionpb_CampaignRequest, _v3electionpb_CampaignResponse>
  Leader: MethodDefinition<_v3electionpb_LeaderRequestIn, _v3electionpb_LeaderResponseIn, _v3electionpb_LeaderRequest, _v3electionpb_LeaderResponse>
  Observe: MethodDefinition<_v3electionpb_LeaderRequestIn, _v3electionpb_LeaderResponseIn, _v3electionpb_LeaderRequest, _v3electionpb_LeaderResponse>
  Proclaim: MethodDefinition<_v3electionpb_ProclaimRequestIn, _v3electionpb_ProclaimResponseIn, _v3electionpb_ProclaimRequest, _v3electionpb_ProclaimResponse>
  Resign: MethodDefinition<_v3electionpb_ResignRequestIn, _v3electionpb_ResignResponseIn, _v3electionpb_ResignRequest, _v3electionpb_ResignResponse>
}
