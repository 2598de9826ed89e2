// Original file: proto/v3lockpb/v3lock.proto

import type { Long } from '@grpc/proto-loader';

export interface LockRequestIn {
  'name'?: (Buffer | Uint8Array | string);
  'lease'?: (number | string | Long);
}

export interface LockRequest {
  'name': (Buffer);
  'lease': (string);
}
