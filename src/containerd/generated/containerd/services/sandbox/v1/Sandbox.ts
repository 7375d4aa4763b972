// Original file: proto/containerd/services/sandbox/v1/sandbox.proto

import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../../google/protobuf/Timestamp.js';

export interface _containerd_services_sandbox_v1_Sandbox_Runtime {
  'name'?: (string);
  'options'?: (_google_protobuf_Any | null);
}

export interface _containerd_services_sandbox_v1_Sandbox_Runtime__Output {
  'name': (string);
  'options': (_google_protobuf_Any__Output | null);
}

export interface Sandbox {
  'sandbox_id'?: (string);
  'runtime'?: (_containerd_services_sandbox_v1_Sandbox_Runtime | null);
  'spec'?: (_google_protobuf_Any | null);
  'labels'?: ({[key: string]: string});
  'created_at'?: (_google_protobuf_Timestamp | null);
  'updated_at'?: (_google_protobuf_Timestamp | null);
  'sandboxer'?: (string);
}

export interface Sandbox__Output {
  'sandbox_id': (string);
  'runtime': (_containerd_services_sandbox_v1_Sandbox_Runtime__Output | null);
  'spec': (_google_protobuf_Any__Output | null);
  'labels': ({[key: string]: string});
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'updated_at': (_google_protobuf_Timestamp__Output | null);
  'sandboxer': (string);
}
