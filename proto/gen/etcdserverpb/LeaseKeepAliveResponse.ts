// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface LeaseKeepAliveResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'ID'?: (number | string | Long);
  'TTL'?: (number | string | Long);
}

export interface LeaseKeepAliveResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'ID': (string);
  'TTL': (string);
}
