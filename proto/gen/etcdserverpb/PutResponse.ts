// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { KeyValueIn as _mvccpb_KeyValueIn, KeyValue as _mvccpb_KeyValue } from '../mvccpb/KeyValue.js';

export interface PutResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'prev_kv'?: (_mvccpb_KeyValueIn | null);
}

export interface PutResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'prev_kv': (_mvccpb_KeyValue | null);
}
