// Original file: proto/v3lockpb/v3lock.proto


export interface UnlockRequestIn {
  'key'?: (Buffer | Uint8Array | string);
}

export interface UnlockRequest {
  'key': (Buffer);
}
