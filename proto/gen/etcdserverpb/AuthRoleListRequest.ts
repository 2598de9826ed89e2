// Original file: proto/etcdserverpb/rpc.proto


export interface AuthRoleListRequestIn {
}

export interface AuthRoleListRequest {
}
