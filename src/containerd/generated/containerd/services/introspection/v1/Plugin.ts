// Original file: proto/containerd/services/introspection/v1/introspection.proto

import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../../../google/rpc/Status.js';

export interface Plugin {
  'type'?: (string);
  'id'?: (string);
  'exports'?: ({[key: string]: string});
  'init_err'?: (_google_rpc_Status | null);
}

export interface Plugin__Output {
  'type': (string);
  'id': (string);
  'exports': ({[key: string]: string});
  'init_err': (_google_rpc_Status__Output | null);
}
