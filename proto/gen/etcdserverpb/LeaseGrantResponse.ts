// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface LeaseGrantResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'ID'?: (number | string | Long);
  'TTL'?: (number | string | Long);
  'error'?: (string);
}

export interface LeaseGrantResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'ID': (string);
  'TTL': (string);
  'error': (string);
}
