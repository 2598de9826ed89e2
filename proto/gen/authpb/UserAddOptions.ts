// Original file: proto/authpb/auth.proto


export interface UserAddOptionsIn {
  'no_password'?: (boolean);
}

export interface UserAddOptions {
  'no_password': (boolean);
}
