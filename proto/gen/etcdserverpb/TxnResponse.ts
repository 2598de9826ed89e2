// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { ResponseOpIn as _etcdserverpb_ResponseOpIn, ResponseOp as _etcdserverpb_ResponseOp } from '../etcdserverpb/ResponseOp.js';

export interface TxnResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'succeeded'?: (boolean);
  'responses'?: (_etcdserverpb_ResponseOpIn)[];
}

export interface TxnResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'succeeded': (boolean);
  'responses': (_etcdserverpb_ResponseOp)[];
}
