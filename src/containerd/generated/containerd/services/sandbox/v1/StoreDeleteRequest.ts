// Original file: proto/containerd/services/sandbox/v1/sandbox.proto


export interface StoreDeleteRequest {
  'sandbox_id'?: (string);
}

export interface StoreDeleteRequest__Output {
  'sandbox_id': (string);
}
