// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberRemoveRequestIn {
  'ID'?: (number | string | Long);
}

export interface MemberRemoveRequest {
  'ID': (string);
}
