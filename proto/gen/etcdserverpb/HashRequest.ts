// Original file: proto/etcdserverpb/rpc.proto


export interface HashRequestIn {
}

export interface HashRequest {
}
