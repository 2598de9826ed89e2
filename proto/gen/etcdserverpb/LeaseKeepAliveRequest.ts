// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaseKeepAliveRequestIn {
  'ID'?: (number | string | Long);
}

export interface LeaseKeepAliveRequest {
  'ID': (string);
}
