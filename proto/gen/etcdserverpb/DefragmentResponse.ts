// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface DefragmentResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface DefragmentResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
