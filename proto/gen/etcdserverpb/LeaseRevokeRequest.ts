// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaseRevokeRequestIn {
  'ID'?: (number | string | Long);
}

export interface LeaseRevokeRequest {
  'ID': (string);
}
