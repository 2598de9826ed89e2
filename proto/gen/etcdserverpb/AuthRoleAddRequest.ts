// Original file: proto/etcdserverpb/rpc.proto


export interface AuthRoleAddRequestIn {
  'name'?: (string);
}

export interface AuthRoleAddRequest {
  'name': (string);
}
