// Original file: proto/etcdserverpb/rpc.proto


export interface AuthenticateRequestIn {
  'name'?: (string);
  'password'?: (string);
}

export interface AuthenticateRequest {
  'name': (string);
  'password': (string);
}
