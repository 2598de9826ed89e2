// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthUserListResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'users'?: (string)[];
}

export interface AuthUserListResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'users': (string)[];
}
