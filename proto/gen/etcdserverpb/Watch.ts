// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { WatchRequestIn as _etcdserverpb_WatchRequestIn, WatchRequest as _etcdserverpb_WatchRequest } from '../etcdserverpb/WatchRequest.js';
import type { WatchResponseIn as _etcdserverpb_WatchResponseIn, WatchResponse as _etcdserverpb_WatchResponse } from '../etcdserverpb/WatchResponse.js';

export interface WatchDefinition {
  Watch: MethodDefinition<_etcdserverpb_WatchRequestIn, _etcdserverpb_WatchResponseIn, _etcdserverpb_WatchRequest, _etcdserverpb_WatchResponse>
}
