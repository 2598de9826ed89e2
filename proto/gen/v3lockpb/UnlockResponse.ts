// Original file: proto/v3lockpb/v3lock.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface UnlockResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface UnlockResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
