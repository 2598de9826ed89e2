// Original file: proto/v3lockpb/v3lock.proto

import type { MethodDefinition } from '@grpc/proto-loader'
import type { LockRequestIn as _v3lockpb_LockRequestIn, LockRequest as _v3lockpb_LockRequest } from '../v3lockpb/LockRequest.js';
import type { LockResponseIn as _v3lockpb_LockResponseIn, LockResponse as _v3lockpb_LockResponse } from '../v3lockpb/LockResponse.js';
import type { UnlockRequestIn as _v3lockpb_UnlockRequestIn, UnlockRequest as _v3lockpb_UnlockRequest } from '../v3lockpb/UnlockRequest.js';
import type { UnlockResponseIn as _v3lockpb_UnlockResponseIn, UnlockResponse as _v3lockpb_UnlockResponse } from '../v3lockpb/UnlockResponse.js';

export interface LockDefinition {
  Lock: MethodDefinition<_v3lockpb_LockRequestIn, _v3lockpb_LockResponseIn, _v3lockpb_LockRequest, _v3lockpb_LockResponse>
  Unlock: MethodDefinition<_v3lockpb_UnlockRequestIn, _v3lockpb_UnlockResponseIn, _v3lockpb_UnlockRequest, _v3lockpb_UnlockResponse>
}
