// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { CompactionRequestIn as _etcdserverpb_CompactionRequestIn, CompactionRequest as _etcdserverpb_CompactionRequest } from '../etcdserverpb/CompactionRequest.js';
import type { CompactionResponseIn as _etcdserverpb_CompactionResponseIn, CompactionResponse as _etcdserverpb_CompactionResponse } from '../etcdserverpb/CompactionResponse.js';
import type { DeleteRangeRequestIn as _etcdserverpb_DeleteRangeRequestIn, DeleteRangeRequest as _etcdserverpb_DeleteRangeRequest } from '../etcdserverpb/DeleteRangeRequest.js';
import type { DeleteRangeResponseIn as _etcdserverpb_DeleteRangeResponseIn, DeleteRangeResponse as _etcdserverpb_DeleteRangeResponse } from '../etcdserverpb/DeleteRangeResponse.js';
import type { PutRequestIn as _etcdserverpb_PutRequestIn, PutRequest as _etcdserverpb_PutRequest } from '../etcdserverpb/PutRequest.js';
import type { PutResponseIn as _etcdserverpb_PutResponseIn, PutResponse as _etcdserverpb_PutResponse } from '../etcdserverpb/PutResponse.js';
import type { RangeRequestIn as _etcdserverpb_RangeRequestIn, RangeRequest as _etcdserverpb_RangeRequest } from '../etcdserverpb/RangeRequest.js';
import type { RangeResponseIn as _etcdserverpb_RangeResponseIn, RangeResponse as _etcdserverpb_RangeResponse } from '../etcdserverpb/RangeResponse.js';
import type { TxnRequestIn as _etcdserverpb_TxnRequestIn, TxnRequest as _etcdserverpb_TxnRequest } from '../etcdserverpb/TxnRequest.js';
import type { TxnResponseIn as _etcdserverpb_TxnResponseIn, TxnResponse as _etcdserverpb_TxnResponse } from '../etcdserverpb/TxnResponse.js';

export interface KVDefinition {
  Compact: MethodDefinition<_etcdserverpb_CompactionRequestIn, _etcdserverpb_CompactionResponseIn, _etcdserverpb_CompactionRequest, _etcdserverpb_CompactionResponse>
  DeleteRange: MethodDefinition<_etcdserverpb_DeleteRangeRequestIn, _etcdserverpb_DeleteRangeResponseIn, _etcdserverpb_DeleteRangeRequest, _etcdserverpb_DeleteRangeResponse>
  Put: MethodDefinition<_etcdserverpb_PutRequestIn, _etcdserverpb_PutResponseIn, _etcdserverpb_PutRequest, _etcdserverpb_PutResponse>
  Range: MethodDefinition<_etcdserverpb_RangeRequestIn, _etcdserverpb_RangeResponseIn, _etcdserverpb_RangeRequest, _etcdserverpb_RangeResponse>
  Txn: MethodDefinition<_etcdserverpb_TxnRequestIn, _etcdserverpb_TxnResponseIn, _etcdserverpb_TxnRequest, _etcdserverpb_TxnResponse>
}
