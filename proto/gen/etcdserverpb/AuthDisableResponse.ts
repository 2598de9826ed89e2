// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthDisableResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface AuthDisableResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
