// Original file: proto/etcdserverpb/rpc.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { AlarmRequestIn as _etcdserverpb_AlarmRequestIn, AlarmRequest as _etcdserverpb_AlarmRequest } from '../etcdserverpb/AlarmRequest.js';
import type { AlarmResponseIn as _etcdserverpb_AlarmResponseIn, AlarmResponse as _etcdserverpb_AlarmResponse } from '../etcdserverpb/AlarmResponse.js';
import type { DefragmentRequestIn as _etcdserverpb_DefragmentRequestIn, DefragmentRequest as _etcdserverpb_DefragmentRequest } from '../etcdserverpb/DefragmentRequest.js';
import type { DefragmentResponseIn as _etcdserverpb_DefragmentResponseIn, DefragmentResponse as _etcdserverpb_DefragmentResponse } from '../etcdserverpb/DefragmentResponse.js';
import type { DowngradeRequestIn as _etcdserverpb_DowngradeRequestIn, DowngradeRequest as _etcdserverpb_DowngradeRequest } from '../etcdserverpb/DowngradeRequest.js';
import type { DowngradeResponseIn as _etcdserverpb_DowngradeResponseIn, DowngradeResponse as _etcdserverpb_DowngradeResponse } from '../etcdserverpb/DowngradeResponse.js';
import type { HashKVRequestIn as _etcdserverpb_HashKVRequestIn, HashKVRequest as _etcdserverpb_HashKVRequest } from '../etcdserverpb/HashKVRequest.js';
import type { HashKVResponseIn as _etcdserverpb_HashKVResponseIn, HashKVResponse as _etcdserverpb_HashKVResponse } from '../etcdserverpb/HashKVResponse.js';
import type { HashRequestIn as _etcdserverpb_HashRequestIn, HashRequest as _etcdserverpb_HashRequest } from '../etcdserverpb/HashRequest.js';
import type { HashResponseIn as _etcdserverpb_HashResponseIn, HashResponse as _etcdserverpb_HashResponse } from '../etcdserverpb/HashResponse.js';
import type { MoveLeaderRequestIn as _etcdserverpb_MoveLeaderRequestIn, MoveLeaderRequest as _etcdserverpb_MoveLeaderRequest } from '../etcdserverpb/MoveLeaderRequest.js';
import type { MoveLeaderResponseIn as _etcdserverpb_MoveLeaderResponseIn, MoveLeaderResponse as _etcdserverpb_MoveLeaderResponse } from '../etcdserverpb/MoveLeaderResponse.js';
import type { SnapshotRequestIn as _etcdserverpb_SnapshotRequestIn, SnapshotRequest as _etcdserverpb_SnapshotRequest } from '../etcdserverpb/SnapshotRequest.js';
import type { SnapshotResponseIn as _etcdserverpb_SnapshotResponseIn, SnapshotResponse as _etcdserverpb_SnapshotResponse } from '../etcdserverpb/SnapshotResponse.js';
import type { StatusRequestIn as _etcdserverpb_StatusRequestIn, StatusRequest as _etcdserverpb_StatusRequest } from '../etcdserverpb/StatusRequest.js';
import type { StatusResponseIn as _etcdserverpb_StatusResponseIn, StatusResponse as _etcdserverpb_StatusResponse } from '../etcdserverpb/StatusResponse.js';

export interface MaintenanceDefinition {
  Alarm: MethodDefinition<_etcdserverpb_AlarmRequestIn, _etcdserverpb_AlarmResponseIn, _etcdserverpb_AlarmRequest, _etcdserverpb_AlarmResponse>
  Defragment: MethodDefinition<_etcdserverpb_DefragmentRequestIn, _etcdserverpb_DefragmentResponseIn, _etcdserverpb_DefragmentRequest, _etcdserverpb_DefragmentResponse>
  Downgrade: MethodDefinition<_etcdserverpb_DowngradeRequestIn, _etcdserverpb_DowngradeResponseIn, _etcdserverpb_DowngradeRequest, _etcdserverpb_DowngradeResponse>
  Hash: MethodDefinition<_etcdserverpb_HashRequestIn, _etcdserverpb_HashResponseIn, _etcdserverpb_HashRequest, _etcdserverpb_HashResponse>
  HashKV: MethodDefinition<_etcdserverpb_HashKVRequestIn, _etcdserverpb_HashKVResponseIn, _etcdserverpb_HashKVRequest, _etcdserverpb_HashKVResponse>
  MoveLeader: MethodDefinition<_etcdserverpb_MoveLeaderRequestIn, _etcdserverpb_MoveLeaderResponseIn, _etcdserverpb_MoveLeaderRequest, _etcdserverpb_MoveLeaderResponse>
  Snapshot: MethodDefinition<_etcdserverpb_SnapshotRequestIn, _etcdserverpb_SnapshotResponseIn, _etcdserverpb_SnapshotRequest, _etcdserverpb_SnapshotResponse>
  Status: MethodDefinition<_etcdserverpb_StatusRequestIn, _etcdserverpb_StatusResponseIn, _etcdserverpb_StatusRequest, _etcdserverpb_StatusResponse>
}
