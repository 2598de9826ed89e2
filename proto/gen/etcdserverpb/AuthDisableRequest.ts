// Original file: proto/etcdserverpb/rpc.proto


export interface AuthDisableRequestIn {
}

export interface AuthDisableRequest {
}
