// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { LeaseGrantRequestIn as _etcdserverpb_LeaseGrantRequestIn, LeaseGrantRequest as _etcdserverpb_LeaseGrantRequest } from '../etcdserverpb/LeaseGrantRequest.js';
import type { LeaseGrantResponseIn as _etcdserverpb_LeaseGrantResponseIn, LeaseGrantResponse as _etcdserverpb_LeaseGrantResponse } from '../etcdserverpb/LeaseGrantResponse.js';
import type { LeaseKeepAliveRequestIn as _etcdserverpb_LeaseKeepAliveRequestIn, LeaseKeepAliveRequest as _etcdserverpb_LeaseKeepAliveRequest } from '../etcdserverpb/LeaseKeepAliveRequest.js';
import type { LeaseKeepAliveResponseIn as _etcdserverpb_LeaseKeepAliveResponseIn, LeaseKeepAliveResponse as _etcdserverpb_LeaseKeepAliveResponse } from '../etcdserverpb/LeaseKeepAliveResponse.js';
import type { LeaseLeasesRequestIn as _etcdserverpb_LeaseLeasesRequestIn, LeaseLeasesRequest as _etcdserverpb_LeaseLeasesRequest } from '../etcdserverpb/LeaseLeasesRequest.js';
import type { LeaseLeasesResponseIn as _etcdserverpb_LeaseLeasesResponseIn, LeaseLeasesResponse as _etcdserverpb_LeaseLeasesResponse } from '../etcdserverpb/LeaseLeasesResponse.js';
import type { LeaseRevokeRequestIn as _etcdserverpb_LeaseRevokeRequestIn, LeaseRevokeRequest as _etcdserverpb_LeaseRevokeRequest } from '../etcdserverpb/LeaseRevokeRequest.js';
import type { LeaseRevokeResponseIn as _etcdserverpb_LeaseRevokeResponseIn, LeaseRevokeResponse as _etcdserverpb_LeaseRevokeResponse } from '../etcdserverpb/LeaseRevokeResponse.js';
import type { LeaseTimeToLiveRequestIn as _etcdserverpb_LeaseTimeToLiveRequestIn, LeaseTimeToLiveRequest as _etcdserverpb_LeaseTimeToLiveRequest } from '../etcdserverpb/LeaseTimeToLiveRequest.js';
import type { LeaseTimeToLiveResponseIn as _etcdserverpb_LeaseTimeToLiveResponseIn, LeaseTimeToLiveResponse as _etcdserverpb_LeaseTimeToLiveResponse } from '../etcdserverpb/LeaseTimeToLiveResponse.js';

export interface LeaseDefinition {
  LeaseGrant: MethodDefinition<_etcdserverpb_LeaseGrantRequestIn, _etcdserverpb_LeaseGrantResponseIn, _etcdserverpb_LeaseGrantRequest, _etcdserverpb_LeaseGrantResponse>
  LeaseKeepAlive: MethodDefinition<_etcdserverpb_LeaseKeepAliveRequestIn, _etcdserverpb_LeaseKeepAliveResponseIn, _etcdserverpb_LeaseKeepAliveRequest, _etcdserverpb_LeaseKeepAliveResponse>
  LeaseLeases: MethodDefinition<_etcdserverpb_LeaseLeasesRequestIn, _etcdserverpb_LeaseLeasesResponseIn, _etcdserverpb_LeaseLeasesRequest, _etcdserverpb_LeaseLeasesResponse>
  LeaseRevoke: MethodDefinition<_etcdserverpb_LeaseRevokeRequestIn, _etcdserverpb_LeaseRevokeResponseIn, _etcdserverpb_LeaseRevokeRequest, _etcdserverpb_LeaseRevokeResponse>
  LeaseTimeToLive: MethodDefinition<_etcdserverpb_LeaseTimeToLiveRequestIn, _etcdserverpb_LeaseTimeToLiveResponseIn, _etcdserverpb_LeaseTimeToLiveRequest, _etcdserverpb_LeaseTimeToLiveResponse>
}
