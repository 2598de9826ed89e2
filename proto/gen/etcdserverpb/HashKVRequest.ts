// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface HashKVRequestIn {
  'revision'?: (number | string | Long);
}

export interface HashKVRequest {
  'revision': (string);
}
