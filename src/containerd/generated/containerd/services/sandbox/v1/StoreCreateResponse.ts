// Original file: proto/containerd/services/sandbox/v1/sandbox.proto

import type { Sandbox as _containerd_services_sandbox_v1_Sandbox, Sandbox__Output as _containerd_services_sandbox_v1_Sandbox__Output } from '../../../../containerd/services/sandbox/v1/Sandbox.js';

export interface StoreCreateResponse {
  'sandbox'?: (_containerd_services_sandbox_v1_Sandbox | null);
}

export interface StoreCreateResponse__Output {
  'sandbox': (_containerd_services_sandbox_v1_Sandbox__Output | null);
}
