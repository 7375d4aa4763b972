import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddResourceRequest as _containerd_services_leases_v1_AddResourceRequest, AddResourceRequest__Output as _containerd_services_leases_v1_AddResourceRequest__Output } from './containerd/services/leases/v1/AddResourceRequest.js';
import type { CreateRequest as _containerd_services_leases_v1_CreateRequest, CreateRequest__Output as _containerd_services_leases_v1_CreateRequest__Output } from './containerd/services/leases/v1/CreateRequest.js';
import type { CreateResponse as _containerd_services_leases_v1_CreateResponse, CreateResponse__Output as _containerd_services_leases_v1_CreateResponse__Output } from './containerd/services/leases/v1/CreateResponse.js';
import type { DeleteRequest as _containerd_services_leases_v1_DeleteRequest, DeleteRequest__Output as _containerd_services_leases_v1_DeleteRequest__Output } from './containerd/services/leases/v1/DeleteRequest.js';
import type { Lease as _containerd_services_leases_v1_Lease, Lease__Output as _containerd_services_leases_v1_Lease__Output } from './containerd/services/leases/v1/Lease.js';
import type { LeasesClient as _containerd_services_leases_v1_LeasesClient, LeasesDefinition as _containerd_services_leases_v1_LeasesDefinition } from './containerd/services/leases/v1/Leases.js';
import type { ListRequest as _containerd_services_leases_v1_ListRequest, ListRequest__Output as _containerd_services_leases_v1_ListRequest__Output } from './containerd/services/leases/v1/ListRequest.js';
import type { ListResourcesRequest as _containerd_services_leases_v1_ListResourcesRequest, ListResourcesRequest__Output as _containerd_services_leases_v1_ListResourcesRequest__Output } from './containerd/services/leases/v1/ListResourcesRequest.js';
import type { ListResourcesResponse as _containerd_services_leases_v1_ListResourcesResponse, ListResourcesResponse__Output as _containerd_services_leases_v1_ListResourcesResponse__Output } from './containerd/services/leases/v1/ListResourcesResponse.js';
import type { ListResponse as _containerd_services_leases_v1_ListResponse, ListResponse__Output as _containerd_services_leases_v1_ListResponse__Output } from './containerd/services/leases/v1/ListResponse.js';
import type { Resource as _containerd_services_leases_v1_Resource, Resource__Output as _containerd_services_leases_v1_Resource__Output } from './containerd/services/leases/v1/Resource.js';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from './google/protobuf/Empty.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  containerd: {
    services: {
      leases: {
        v1: {
          AddResourceRequest: MessageTypeDefinition<_containerd_services_leases_v1_AddResourceRequest, _containerd_services_leases_v1_AddResourceRequest__Output>
          CreateRequest: MessageTypeDefinition<_containerd_services_leases_v1_CreateRequest, _containerd_services_leases_v1_CreateRequest__Output>
          CreateResponse: MessageTypeDefinition<_containerd_services_leases_v1_CreateResponse, _containerd_services_leases_v1_CreateResponse__Output>
          DeleteRequest: MessageTypeDefinition<_containerd_services_leases_v1_DeleteRequest, _containerd_services_leases_v1_DeleteRequest__Output>
          Lease: MessageTypeDefinition<_containerd_services_leases_v1_Lease, _containerd_services_leases_v1_Lease__Output>
          Leases: SubtypeConstructor<typeof grpc.Client, _containerd_services_leases_v1_LeasesClient> & { service: _containerd_services_leases_v1_LeasesDefinition }
          ListRequest: MessageTypeDefinition<_containerd_services_leases_v1_ListRequest, _containerd_services_leases_v1_ListRequest__Output>
          ListResourcesRequest: MessageTypeDefinition<_containerd_services_leases_v1_ListResourcesRequest, _containerd_services_leases_v1_ListResourcesRequest__Output>
          ListResourcesResponse: MessageTypeDefinition<_containerd_services_leases_v1_ListResourcesResponse, _containerd_services_leases_v1_ListResourcesResponse__Output>
          ListResponse: MessageTypeDefinition<_containerd_services_leases_v1_ListResponse, _containerd_services_leases_v1_ListResponse__Output>
          Resource: MessageTypeDefinition<_containerd_services_leases_v1_Resource, _containerd_services_leases_v1_Resource__Output>
        }
      }
    }
  }
  google: {
    protobuf: {
      Empty: MessageTypeDefinition<_google_protobuf_Empty, _google_protobuf_Empty__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

