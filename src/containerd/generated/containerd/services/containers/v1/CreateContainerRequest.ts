// Original file: proto/containerd/services/containers/v1/containers.proto

import type { NewContainer as _containerd_services_containers_v1_NewContainer, NewContainer__Output as _containerd_services_containers_v1_NewContainer__Output } from '../../../../containerd/services/containers/v1/NewContainer.js';

export interface CreateContainerRequest {
  'container'?: (_containerd_services_containers_v1_NewContainer | null);
}

export interface CreateContainerRequest__Output {
  'container': (_containerd_services_containers_v1_NewContainer__Output | null);
}
