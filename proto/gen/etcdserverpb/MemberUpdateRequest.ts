// Original file: proto/etcdserverpb/rpc.proto

import type { Long } from '@grpc/proto-loader';

export interface MemberUpdateRequestIn {
  'ID'?: (number | string | Long);
  'peerURLs'?: (string)[];
}

export interface MemberUpdateRequest {
  'ID': (string);
  'peerURLs': (string)[];
}
