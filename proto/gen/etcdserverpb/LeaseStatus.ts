// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaseStatusIn {
  'ID'?: (number | string | Long);
}

export interface LeaseStatus {
  'ID': (string);
}
