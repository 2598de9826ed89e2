// Original file: proto/etcdserverpb/rpc.proto


export interface DefragmentRequestIn {
}

export interface DefragmentRequest {
}
