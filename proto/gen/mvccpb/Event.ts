// Original file: proto/mvccpb/kv.proto

import type { KeyValueIn as _mvccpb_KeyValueIn, KeyValue as _mvccpb_KeyValue } from '../mvccpb/KeyValue.js';

// Original file: proto/mvccpb/kv.proto

export const _mvccpb_Event_EventType = {
  PUT: 0,
  DELETE: 1,
} as const;

export type _mvccpb_Event_EventTypeIn =
  | 'PUT'
  | 0
  | 'DELETE'
  | 1

export type _mvccpb_Event_EventType = typeof _mvccpb_Event_EventType[keyof typeof _mvccpb_Event_EventType]

export interface EventIn {
  'type'?: (_mvccpb_Event_EventTypeIn);
  'kv'?: (_mvccpb_KeyValueIn | null);
  'prev_kv'?: (_mvccpb_KeyValueIn | null);
}

export interface Event {
  'type': (_mvccpb_Event_EventType);
  'kv': (_mvccpb_KeyValue | null);
  'prev_kv': (_mvccpb_KeyValue | null);
}
