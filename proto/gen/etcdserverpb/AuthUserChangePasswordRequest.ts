// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserChangePasswordRequestIn {
  'name'?: (string);
  'password'?: (string);
  'hashedPassword'?: (string);
}

export interface AuthUserChangePasswordRequest {
  'name': (string);
  'password': (string);
  'hashedPassword': (string);
}
