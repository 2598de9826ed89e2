// Original file: proto/v3lockpb/v3lock.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface LockResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'key'?: (Buffer | Uint8Array | string);
}

export interface LockResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'key': (Buffer);
}
