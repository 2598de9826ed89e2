// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface HashResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'hash'?: (number);
}

export interface HashResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'hash': (number);
}
