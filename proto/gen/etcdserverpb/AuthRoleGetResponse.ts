// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { PermissionIn as _authpb_PermissionIn, Permission as _authpb_Permission } from '../authpb/Permission.js';

export interface AuthRoleGetResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'perm'?: (_authpb_PermissionIn)[];
}

export interface AuthRoleGetResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'perm': (_authpb_Permission)[];
}
