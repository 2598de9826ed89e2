// Original file: proto/etcdserverpb/rpc.proto


// Original file: proto/etcdserverpb/rpc.proto

export const _etcdserverpb_DowngradeRequest_DowngradeAction = {
  VALIDATE: 0,
  ENABLE: 1,
  CANCEL: 2,
} as const;

export type _etcdserverpb_DowngradeRequest_DowngradeActionIn =
  | 'VALIDATE'
  | 0
  | 'ENABLE'
  | 1
  | 'CANCEL'
  | 2

export type _etcdserverpb_DowngradeRequest_DowngradeAction = typeof _etcdserverpb_DowngradeRequest_DowngradeAction[keyof typeof _etcdserverpb_DowngradeRequest_DowngradeAction]

export interface DowngradeRequestIn {
  'action'?: (_etcdserverpb_DowngradeRequest_DowngradeActionIn);
  'version'?: (string);
}

export interface DowngradeRequest {
  'action': (_etcdserverpb_DowngradeRequest_DowngradeAction);
  'version': (string);
}
