// Original file: proto/etcdserverpb/rpc.proto

import type { RangeRequestIn as _etcdserverpb_RangeRequestIn, RangeRequest as _etcdserverpb_RangeRequest } from '../etcdserverpb/RangeRequest.js';
import type { PutRequestIn as _etcdserverpb_PutRequestIn, PutRequest as _etcdserverpb_PutRequest } from '../etcdserverpb/PutRequest.js';
import type { DeleteRangeRequestIn as _etcdserverpb_DeleteRangeRequestIn, DeleteRangeRequest as _etcdserverpb_DeleteRangeRequest } from '../etcdserverpb/DeleteRangeRequest.js';
import type { TxnRequestIn as _etcdserverpb_TxnRequestIn, TxnRequest as _etcdserverpb_TxnRequest } from '../etcdserverpb/TxnRequest.js';

export interface RequestOpIn {
  'request_range'?: (_etcdserverpb_RangeRequestIn | null);
  'request_put'?: (_etcdserverpb_PutRequestIn | null);
  'request_delete_range'?: (_etcdserverpb_DeleteRangeRequestIn | null);
  'request_txn'?: (_etcdserverpb_TxnRequestIn | null);
  'request'?: "request_range"|"request_put"|"request_delete_range"|"request_txn";
}

export interface RequestOp {
  'request_range'?: (_etcdserverpb_RangeRequest | null);
  'request_put'?: (_etcdserverpb_PutRequest | null);
  'request_delete_range'?: (_etcdserverpb_DeleteRangeRequest | null);
  'request_txn'?: (_etcdserverpb_TxnRequest | null);
  'request'?: "request_range"|"request_put"|"request_delete_range"|"request_txn";
}
