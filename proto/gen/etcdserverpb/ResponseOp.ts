// Original file: proto/etcdserverpb/rpc.proto

import type { RangeResponseIn as _etcdserverpb_RangeResponseIn, RangeResponse as _etcdserverpb_RangeResponse } from '../etcdserverpb/RangeResponse.js';
import type { PutResponseIn as _etcdserverpb_PutResponseIn, PutResponse as _etcdserverpb_PutResponse } from '../etcdserverpb/PutResponse.js';
import type { DeleteRangeResponseIn as _etcdserverpb_DeleteRangeResponseIn, DeleteRangeResponse as _etcdserverpb_DeleteRangeResponse } from '../etcdserverpb/DeleteRangeResponse.js';
import type { TxnResponseIn as _etcdserverpb_TxnResponseIn, TxnResponse as _etcdserverpb_TxnResponse } from '../etcdserverpb/TxnResponse.js';

export interface ResponseOpIn {
  'response_range'?: (_etcdserverpb_RangeResponseIn | null);
  'response_put'?: (_etcdserverpb_PutResponseIn | null);
  'response_delete_range'?: (_etcdserverpb_DeleteRangeResponseIn | null);
  'response_txn'?: (_etcdserverpb_TxnResponseIn | null);
  'response'?: "response_range"|"response_put"|"response_delete_range"|"response_txn";
}

export interface ResponseOp {
  'response_range'?: (_etcdserverpb_RangeResponse | null);
  'response_put'?: (_etcdserverpb_PutResponse | null);
  'response_delete_range'?: (_etcdserverpb_DeleteRangeResponse | null);
  'response_txn'?: (_etcdserverpb_TxnResponse | null);
  'response'?: "response_range"|"response_put"|"response_delete_range"|"response_txn";
}
