// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface MoveLeaderRequestIn {
  'targetID'?: (number | string | Long);
}

export interface MoveLeaderRequest {
  'targetID': (string);
}
