// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { MemberIn as _etcdserverpb_MemberIn, Member as _etcdserverpb_Member } from '../etcdserverpb/Member.js';

export interface MemberAddResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'member'?: (_etcdserverpb_MemberIn | null);
  'members'?: (_etcdserverpb_MemberIn)[];
}

export interface MemberAddResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'member': (_etcdserverpb_Member | null);
  'members': (_etcdserverpb_Member)[];
}
