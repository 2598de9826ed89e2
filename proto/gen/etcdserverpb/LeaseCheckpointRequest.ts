// Original file: proto/etcdserverpb/rpc.proto

import type { LeaseCheckpointIn as _etcdserverpb_LeaseCheckpointIn, LeaseCheckpoint as _etcdserverpb_LeaseCheckpoint } from '../etcdserverpb/LeaseCheckpoint.js';

export interface LeaseCheckpointRequestIn {
  'checkpoints'?: (_etcdserverpb_LeaseCheckpointIn)[];
}

export interface LeaseCheckpointRequest {
  'checkpoints': (_etcdserverpb_LeaseCheckpoint)[];
}
