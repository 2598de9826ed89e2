// Original file: proto/v3electionpb/v3election.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';

export interface ProclaimResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
}

export interface ProclaimResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
}
