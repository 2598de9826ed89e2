// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthenticateResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'token'?: (string);
}

export interface AuthenticateResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'token': (string);
}
