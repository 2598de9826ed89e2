// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthRoleAddResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface AuthRoleAddResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
