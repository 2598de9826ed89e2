// Original file: proto/etcdserverpb/rpc.proto


export interface MemberListRequestIn {
  'linearizable'?: (boolean);
}

export interface MemberListRequest {
  'linearizable': (boolean);
}
