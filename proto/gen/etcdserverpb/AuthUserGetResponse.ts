// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthUserGetResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'roles'?: (string)[];
}

export interface AuthUserGetResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'roles': (string)[];
}
