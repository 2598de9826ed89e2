// Original file: proto/etcdserverpb/rpc.proto

import type { AlarmTypeIn as _etcdserverpb_AlarmTypeIn, AlarmType as _etcdserverpb_AlarmType } from '../etcdserverpb/AlarmType.js';
import type { Long } from '@grpc/proto-loader';

export interface AlarmMemberIn {
  'memberID'?: (number | string | Long);
  'alarm'?: (_etcdserverpb_AlarmTypeIn);
}

export interface AlarmMember {
  'memberID': (string);
  'alarm': (_etcdserverpb_AlarmType);
}
