// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface LeaseTimeToLiveRequestIn {
  'ID'?: (number | string | Long);
  'keys'?: (boolean);
}

export interface LeaseTimeToLiveRequest {
  'ID': (string);
  'keys': (boolean);
}
