// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface CompactionRequestIn {
  'revision'?: (number | string | Long);
  'physical'?: (boolean);
}

export interface CompactionRequest {
  'revision': (string);
  'physical': (boolean);
}
