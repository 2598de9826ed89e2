// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserRevokeRoleRequestIn {
  'name'?: (string);
  'role'?: (string);
}

export interface AuthUserRevokeRoleRequest {
  'name': (string);
  'role': (string);
}
