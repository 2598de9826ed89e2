// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { Long } from '@grpc/proto-loader';

export interface SnapshotResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'remaining_bytes'?: (number | string | Long);
  'blob'?: (Buffer | Uint8Array | string);
}

export interface SnapshotResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'remaining_bytes': (string);
  'blob': (Buffer);
}
