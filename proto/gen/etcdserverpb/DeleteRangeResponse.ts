// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { KeyValueIn as _mvccpb_KeyValueIn, KeyValue as _mvccpb_KeyValue } from '../mvccpb/KeyValue.js';
import type { Long } from '@grpc/proto-loader';

export interface DeleteRangeResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'deleted'?: (number | string | Long);
  'prev_kvs'?: (_mvccpb_KeyValueIn)[];
}

export interface DeleteRangeResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'deleted': (string);
  'prev_kvs': (_mvccpb_KeyValue)[];
}
