// Original file: proto/containerd/services/sandbox/v1/sandbox.proto


export interface StoreListRequest {
  'filters'?: (string)[];
}

export interface StoreListRequest__Output {
  'filters': (string)[];
}
