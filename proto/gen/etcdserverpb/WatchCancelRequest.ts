// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchCancelRequestIn {
  'watch_id'?: (number | string | Long);
}

export interface WatchCancelRequest {
  'watch_id': (string);
}
