// Original file: proto/etcdserverpb/rpc.proto


export interface AuthRoleDeleteRequestIn {
  'role'?: (string);
}

export interface AuthRoleDeleteRequest {
  'role': (string);
}
