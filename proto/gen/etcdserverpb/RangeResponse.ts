// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { KeyValueIn as _mvccpb_KeyValueIn, KeyValue as _mvccpb_KeyValue } from '../mvccpb/KeyValue.js';
import type { Long } from '@grpc/proto-loader';

export interface RangeResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'kvs'?: (_mvccpb_KeyValueIn)[];
  'more'?: (boolean);
  'count'?: (number | string | Long);
}

export interface RangeResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'kvs': (_mvccpb_KeyValue)[];
  'more': (boolean);
  'count': (string);
}
