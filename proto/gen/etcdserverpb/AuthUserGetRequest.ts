// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserGetRequestIn {
  'name'?: (string);
}

export interface AuthUserGetRequest {
  'name': (string);
}
