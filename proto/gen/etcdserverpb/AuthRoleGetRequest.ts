// Original file: proto/etcdserverpb/rpc.proto


export interface AuthRoleGetRequestIn {
  'role'?: (string);
}

export interface AuthRoleGetRequest {
  'role': (string);
}
