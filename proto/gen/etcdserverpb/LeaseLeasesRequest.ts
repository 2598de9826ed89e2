// Original file: proto/etcdserverpb/rpc.proto


export interface LeaseLeasesRequestIn {
}

export interface LeaseLeasesRequest {
}
