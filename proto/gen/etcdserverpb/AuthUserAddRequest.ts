// Original file: proto/etcdserverpb/rpc.proto

import type { UserAddOptionsIn as _authpb_UserAddOptionsIn, UserAddOptions as _authpb_UserAddOptions } from '../authpb/UserAddOptions.js';

export interface AuthUserAddRequestIn {
  'name'?: (string);
  'password'?: (string);
  'options'?: (_authpb_UserAddOptionsIn | null);
  'hashedPassword'?: (string);
}

export interface AuthUserAddRequest {
  'name': (string);
  'password': (string);
  'options': (_authpb_UserAddOptions | null);
  'hashedPassword': (string);
}
