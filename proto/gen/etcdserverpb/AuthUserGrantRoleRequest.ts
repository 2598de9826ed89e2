// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserGrantRoleRequestIn {
  'user'?: (string);
  'role'?: (string);
}

export interface AuthUserGrantRoleRequest {
  'user': (string);
  'role': (string);
}
