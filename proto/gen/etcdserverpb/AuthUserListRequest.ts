// Original file: proto/etcdserverpb/rpc.proto


export interface AuthUserListRequestIn {
}

export interface AuthUserListRequest {
}
