// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { AlarmMemberIn as _etcdserverpb_AlarmMemberIn, AlarmMember as _etcdserverpb_AlarmMember } from '../etcdserverpb/AlarmMember.js';

export interface AlarmResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'alarms'?: (_etcdserverpb_AlarmMemberIn)[];
}

export interface AlarmResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'alarms': (_etcdserverpb_AlarmMember)[];
}
