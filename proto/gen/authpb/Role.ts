// Original file: proto/authpb/auth.proto

import type { PermissionIn as _authpb_PermissionIn, Permission as _authpb_Permission } from '../authpb/Permission.js';

export interface RoleIn {
  'name'?: (Buffer | Uint8Array | string);
  'keyPermission'?: (_authpb_PermissionIn)[];
}

export interface Role {
  'name': (Buffer);
  'keyPermission': (_authpb_Permission)[];
}
