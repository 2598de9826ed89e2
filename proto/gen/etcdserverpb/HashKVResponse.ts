// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface HashKVResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'hash'?: (number);
  'compact_revision'?: (number | string | Long);
}

export interface HashKVResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'hash': (number);
  'compact_revision': (string);
}
