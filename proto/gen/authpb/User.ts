// Original file: proto/authpb/auth.proto

import type { UserAddOptionsIn as _authpb_UserAddOptionsIn, UserAddOptions as _authpb_UserAddOptions } from '../authpb/UserAddOptions.js';

export interface UserIn {
  'name'?: (Buffer | Uint8Array | string);
  'password'?: (Buffer | Uint8Array | string);
  'roles'?: (string)[];
  'options'?: (_authpb_UserAddOptionsIn | null);
}

export interface User {
  'name': (Buffer);
  'password': (Buffer);
  'roles': (string)[];
  'options': (_authpb_UserAddOptions | null);
}
