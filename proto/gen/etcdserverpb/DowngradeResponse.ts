// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface DowngradeResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'version'?: (string);
}

export interface DowngradeResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'version': (string);
}
