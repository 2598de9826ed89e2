// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface AuthRoleGrantPermissionResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface AuthRoleGrantPermissionResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
