// Original file: proto/etcdserverpb/rpc.proto


export interface AuthRoleRevokePermissionRequestIn {
  'role'?: (string);
  'key'?: (Buffer | Uint8Array | string);
  'range_end'?: (Buffer | Uint8Array | string);
}

export interface AuthRoleRevokePermissionRequest {
  'role': (string);
  'key': (Buffer);
  'range_end': (Buffer);
}
