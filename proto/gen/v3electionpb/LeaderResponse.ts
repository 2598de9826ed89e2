// Original file: proto/v3electionpb/v3election.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { KeyValueIn as _mvccpb_KeyValueIn, KeyValue as _mvccpb_KeyValue } from '../mvccpb/KeyValue.js';

export interface LeaderResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'kv'?: (_mvccpb_KeyValueIn | null);
}

export interface LeaderResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'kv': (_mvccpb_KeyValue | null);
}
