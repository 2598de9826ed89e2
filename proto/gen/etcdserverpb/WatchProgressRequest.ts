// Original file: proto/etcdserverpb/rpc.proto


export interface WatchProgressRequestIn {
}

export interface WatchProgressRequest {
}
