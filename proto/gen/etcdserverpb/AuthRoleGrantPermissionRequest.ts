// Original file: proto/etcdserverpb/rpc.proto

import type { PermissionIn as _authpb_PermissionIn, Permission as _authpb_Permission } from '../authpb/Permission.js';

export interface AuthRoleGrantPermissionRequestIn {
  'name'?: (string);
  'perm'?: (_authpb_PermissionIn | null);
}

export interface AuthRoleGrantPermissionRequest {
  'name': (string);
  'perm': (_authpb_Permission | null);
}
