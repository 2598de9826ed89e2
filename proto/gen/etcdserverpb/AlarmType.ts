// Original file: proto/etcdserverpb/rpc.proto

export const AlarmType = {
  NONE: 0,
  NOSPACE: 1,
  CORRUPT: 2,
} as const;

export type AlarmTypeIn =
  | 'NONE'
  | 0
  | 'NOSPACE'
  | 1
  | 'CORRUPT'
  | 2

export type AlarmType = typeof AlarmType[keyof typeof AlarmType]
