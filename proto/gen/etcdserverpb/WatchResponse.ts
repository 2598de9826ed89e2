// Original file: proto/etcdserverpb/rpc.proto

import type { ResponseHeaderIn as _etcdserverpb_ResponseHeaderIn, ResponseHeader as _etcdserverpb_ResponseHeader } from '../etcdserverpb/ResponseHeader.js';
import type { EventIn as _mvccpb_EventIn, Event as _mvccpb_Event } from '../mvccpb/Event.js';
import type { Long } from '@grpc/proto-loader';

export interface WatchResponseIn {
  'header'?: (_etcdserverpb_ResponseHeaderIn | null);
  'watch_id'?: (number | string | Long);
  'created'?: (boolean);
  'canceled'?: (boolean);
  'compact_revision'?: (number | string | Long);
  'cancel_reason'?: (string);
  'fragment'?: (boolean);
  'events'?: (_mvccpb_EventIn)[];
}

export interface WatchResponse {
  'header': (_etcdserverpb_ResponseHeader | null);
  'watch_id': (string);
  'created': (boolean);
  'canceled': (boolean);
  'compact_revision': (string);
  'cancel_reason': (string);
  'fragment': (boolean);
  'events': (_mvccpb_Event)[];
}
