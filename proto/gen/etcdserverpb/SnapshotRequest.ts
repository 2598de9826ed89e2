// Original file: proto/etcdserverpb/rpc.proto


export interface SnapshotRequestIn {
}

export interface SnapshotRequest {
}
