// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { LeaseStatusIn as _etcdserverpb_LeaseStatusIn, LeaseStatus as _etcdserverpb_LeaseStatus } from '../etcdserverpb/LeaseStatus.js';

export interface LeaseLeasesResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'leases'?: (_etcdserverpb_LeaseStatusIn)[];
}

export interface LeaseLeasesResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'leases': (_etcdserverpb_LeaseStatus)[];
}
