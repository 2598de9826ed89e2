// Original file: proto/etcdserverpb/rpc.proto

import type { CompareIn as _etcdserverpb_CompareIn, Compare as _etcdserverpb_Compare } from '../etcdserverpb/Compare.js';
import type { RequestOpIn as _etcdserverpb_RequestOpIn, RequestOp as _etcdserverpb_RequestOp } from '../etcdserverpb/RequestOp.js';

export interface TxnRequestIn {
  'compare'?: (_etcdserverpb_CompareIn)[];
  'success'?: (_etcdserverpb_RequestOpIn)[];
  'failure'?: (_etcdserverpb_RequestOpIn)[];
}

export interface TxnRequest {
  'compare': (_etcdserverpb_Compare)[];
  'success': (_etcdserverpb_RequestOp)[];
  'failure': (_etcdserverpb_RequestOp)[];
}
