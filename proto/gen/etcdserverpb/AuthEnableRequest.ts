// Original file: proto/etcdserverpb/rpc.proto


export interface AuthEnableRequestIn {
}

export interface AuthEnableRequest {
}
