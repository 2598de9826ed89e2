// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberPromoteRequestIn {
  'ID'?: (number | string | Long);
}

export interface MemberPromoteRequest {
  'ID': (string);
}
