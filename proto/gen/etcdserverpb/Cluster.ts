// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { MemberAddRequestIn as _etcdserverpb_MemberAddRequestIn, MemberAddRequest as _etcdserverpb_MemberAddRequest } from '../etcdserverpb/MemberAddRequest.js';
import type { MemberAddResponseIn as _etcdserverpb_MemberAddResponseIn, MemberAddResponse as _etcdserverpb_MemberAddResponse } from '../etcdserverpb/MemberAddResponse.js';
import type { MemberListRequestIn as _etcdserverpb_MemberListRequestIn, MemberListRequest as _etcdserverpb_MemberListRequest } from '../etcdserverpb/MemberListRequest.js';
import type { MemberListResponseIn as _etcdserverpb_MemberListResponseIn, MemberListResponse as _etcdserverpb_MemberListResponse } from '../etcdserverpb/MemberListResponse.js';
import type { MemberPromoteRequestIn as _etcdserverpb_MemberPromoteRequestIn, MemberPromoteRequest as _etcdserverpb_MemberPromoteRequest } from '../etcdserverpb/MemberPromoteRequest.js';
import type { MemberPromoteResponseIn as _etcdserverpb_MemberPromoteResponseIn, MemberPromoteResponse as _etcdserverpb_MemberPromoteResponse } from '../etcdserverpb/MemberPromoteResponse.js';
import type { MemberRemoveRequestIn as _etcdserverpb_MemberRemoveRequestIn, MemberRemoveRequest as _etcdserverpb_MemberRemoveRequest } from '../etcdserverpb/MemberRemoveRequest.js';
import type { MemberRemoveResponseIn as _etcdserverpb_MemberRemoveResponseIn, MemberRemoveResponse as _etcdserverpb_MemberRemoveResponse } from '../etcdserverpb/MemberRemoveResponse.js';
import type { MemberUpdateRequestIn as _etcdserverpb_MemberUpdateRequestIn, MemberUpdateRequest as _etcdserverpb_MemberUpdateRequest } from '../etcdserverpb/MemberUpdateRequest.js';
import type { MemberUpdateResponseIn as _etcdserverpb_MemberUpdateResponseIn, MemberUpdateResponse as _etcdserverpb_MemberUpdateResponse } from '../etcdserverpb/MemberUpdateResponse.js';

export interface ClusterDefinition {
  MemberAdd: MethodDefinition<_etcdserverpb_MemberAddRequestIn, _etcdserverpb_MemberAddResponseIn, _etcdserverpb_MemberAddRequest, _etcdserverpb_MemberAddResponse>
  MemberList: MethodDefinition<_etcdserverpb_MemberListRequestIn, _etcdserverpb_MemberListResponseIn, _etcdserverpb_MemberListRequest, _etcdserverpb_MemberListResponse>
  MemberPromote: MethodDefinition<_etcdserverpb_MemberPromoteRequestIn, _etcdserverpb_MemberPromoteResponseIn, _etcdserverpb_MemberPromoteRequest, _etcdserverpb_MemberPromoteResponse>
  MemberRemove: MethodDefinition<_etcdserverpb_MemberRemoveRequestIn, _etcdserverpb_MemberRemoveResponseIn, _etcdserverpb_MemberRemoveRequest, _etcdserverpb_MemberRemoveResponse>
  MemberUpdate: MethodDefinition<_etcdserverpb_MemberUpdateRequestIn, _etcdserverpb_MemberUpdateResponseIn, _etcdserverpb_MemberUpdateRequest, _etcdserverpb_MemberUpdateResponse>
}
