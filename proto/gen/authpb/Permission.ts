// Original file: proto/authpb/auth.proto


// Original file: proto/authpb/auth.proto

export const _authpb_Permission_Type = {
  READ: 0,
  WRITE: 1,
  READWRITE: 2,
} as const;

export type _authpb_Permission_TypeIn =
  | 'READ'
  | 0
  | 'WRITE'
  | 1
  | 'READWRITE'
  | 2

export type _authpb_Permission_Type = typeof _authpb_Permission_Type[keyof typeof _authpb_Permission_Type]

export interface PermissionIn {
  'permType'?: (_authpb_Permission_TypeIn);
  'key'?: (Buffer | Uint8Array | string);
  'range_end'?: (Buffer | Uint8Array | string);
}

export interface Permission {
  'permType': (_authpb_Permission_Type);
  'key': (Buffer);
  'range_end': (Buffer);
}
