// Original file: proto/etcdserverpb/rpc.proto


export interface MemberAddRequestIn {
  'peerURLs'?: (string)[];
  'isLearner'?: (boolean);
}

export interface MemberAddRequest {
  'peerURLs': (string)[];
  'isLearner': (boolean);
}
