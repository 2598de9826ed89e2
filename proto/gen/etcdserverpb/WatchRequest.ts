// Original file: proto/etcdserverpb/rpc.proto

import type { WatchCreateRequestIn as _etcdserverpb_WatchCreateRequestIn, WatchCreateRequest as _etcdserverpb_WatchCreateRequest } from '../etcdserverpb/WatchCreateRequest.js';
import type { WatchCancelRequestIn as _etcdserverpb_WatchCancelRequestIn, WatchCancelRequest as _etcdserverpb_WatchCancelRequest } from '../etcdserverpb/WatchCancelRequest.js';
import type { WatchProgressRequestIn as _etcdserverpb_WatchProgressRequestIn, WatchProgressRequest as _etcdserverpb_WatchProgressRequest } from '../etcdserverpb/WatchProgressRequest.js';

export interface WatchRequestIn {
  'create_request'?: (_etcdserverpb_WatchCreateRequestIn | null);
  'cancel_request'?: (_etcdserverpb_WatchCancelRequestIn | null);
  'progress_request'?: (_etcdserverpb_WatchProgressRequestIn | null);
  'request_union'?: "create_request"|"cancel_request"|"progress_request";
}

export interface WatchRequest {
  'create_request'?: (_etcdserverpb_WatchCreateRequest | null);
  'cancel_request'?: (_etcdserverpb_WatchCancelRequest | null);
  'progress_request'?: (_etcdserverpb_WatchProgressRequest | null);
  'request_union'?: "create_request"|"cancel_request"|"progress_request";
}
