import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Container as _containerd_services_containers_v1_Container, Container__Output as _containerd_services_containers_v1_Container__Output } from './containerd/services/containers/v1/Container.js';
import type { ContainersClient as _containerd_services_containers_v1_ContainersClient, ContainersDefinition as _containerd_services_containers_v1_ContainersDefinition } from './containerd/services/containers/v1/Containers.js';
import type { ListContainersRequest as _containerd_services_containers_v1_ListContainersRequest, ListContainersRequest__Output as _containerd_services_containers_v1_ListContainersRequest__Output } from './containerd/services/containers/v1/ListContainersRequest.js';
import type { ListContainersResponse as _containerd_services_containers_v1_ListContainersResponse, ListContainersResponse__Output as _containerd_services_containers_v1_ListContainersResponse__Output } from './containerd/services/containers/v1/ListContainersResponse.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  containerd: {
    services: {
      containers: {
        v1: {
          Container: MessageTypeDefinition<_containerd_services_containers_v1_Container, _containerd_services_containers_v1_Container__Output>
          Containers: SubtypeConstructor<typeof grpc.Client, _containerd_services_containers_v1_ContainersClient> & { service: _containerd_services_containers_v1_ContainersDefinition }
          ListContainersRequest: MessageTypeDefinition<_containerd_services_containers_v1_ListContainersRequest, _containerd_services_containers_v1_ListContainersRequest__Output>
          ListContainersResponse: MessageTypeDefinition<_containerd_services_containers_v1_ListContainersResponse, _containerd_services_containers_v1_ListContainersResponse__Output>
        }
      }
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

