// Original file: proto/etcdserverpb/rpc.proto

import type { AlarmTypeIn as _etcdserverpb_AlarmTypeIn, AlarmType as _etcdserverpb_AlarmType } from '../etcdserverpb/AlarmType.js';
import type { Long } from '@grpc/proto-loader';

// Original file: proto/etcdserverpb/rpc.proto

export const _etcdserverpb_AlarmRequest_AlarmAction = {
  GET: 0,
  ACTIVATE: 1,
  DEACTIVATE: 2,
} as const;

export type _etcdserverpb_AlarmRequest_AlarmActionIn =
  | 'GET'
  | 0
  | 'ACTIVATE'
  | 1
  | 'DEACTIVATE'
  | 2

export type _etcdserverpb_AlarmRequest_AlarmAction = typeof _etcdserverpb_AlarmRequest_AlarmAction[keyof typeof _etcdserverpb_AlarmRequest_AlarmAction]

export interface AlarmRequestIn {
  'action'?: (_etcdserverpb_AlarmRequest_AlarmActionIn);
  'memberID'?: (number | string | Long);
  'alarm'?: (_etcdserverpb_AlarmTypeIn);
}

export interface AlarmRequest {
  'action': (_etcdserverpb_AlarmRequest_AlarmAction);
  'memberID': (string);
  'alarm': (_etcdserverpb_AlarmType);
}
