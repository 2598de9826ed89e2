// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserDeleteRequestIn {
  'name'?: (string);
}

export interface AuthUserDeleteRequest {
  'name': (string);
}
