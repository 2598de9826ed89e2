// Original file: proto/etcdserverpb/rpc.proto


export interface AuthStatusRequestIn {
}

export interface AuthStatusRequest {
}
