// Original file: proto/etcdserverpb/rpc.proto


export interface StatusRequestIn {
}

export interface StatusRequest {
}
