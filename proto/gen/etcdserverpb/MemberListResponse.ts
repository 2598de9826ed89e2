// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { MemberIn as _etcdserverpb_MemberIn, Member as _etcdserverpb_Member } from '../etcdserverpb/Member.js';

export interface MemberListResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'members'?: (_etcdserverpb_MemberIn)[];
}

export interface MemberListResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'members': (_etcdserverpb_Member)[];
}
