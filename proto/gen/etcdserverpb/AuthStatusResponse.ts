// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface AuthStatusResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'enabled'?: (boolean);
  'authRevision'?: (number | string | Long);
}

export interface AuthStatusResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'enabled': (boolean);
  'authRevision': (string);
}
