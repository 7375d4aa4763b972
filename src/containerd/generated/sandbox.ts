import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Sandbox as _containerd_services_sandbox_v1_Sandbox, Sandbox__Output as _containerd_services_sandbox_v1_Sandbox__Output } from './containerd/services/sandbox/v1/Sandbox.js';
import type { StoreClient as _containerd_services_sandbox_v1_StoreClient, StoreDefinition as _containerd_services_sandbox_v1_StoreDefinition } from './containerd/services/sandbox/v1/Store.js';
import type { StoreCreateRequest as _containerd_services_sandbox_v1_StoreCreateRequest, StoreCreateRequest__Output as _containerd_services_sandbox_v1_StoreCreateRequest__Output } from './containerd/services/sandbox/v1/StoreCreateRequest.js';
import type { StoreCreateResponse as _containerd_services_sandbox_v1_StoreCreateResponse, StoreCreateResponse__Output as _containerd_services_sandbox_v1_StoreCreateResponse__Output } from './containerd/services/sandbox/v1/StoreCreateResponse.js';
import type { StoreDeleteRequest as _containerd_services_sandbox_v1_StoreDeleteRequest, StoreDeleteRequest__Output as _containerd_services_sandbox_v1_StoreDeleteRequest__Output } from './containerd/services/sandbox/v1/StoreDeleteRequest.js';
import type { StoreDeleteResponse as _containerd_services_sandbox_v1_StoreDeleteResponse, StoreDeleteResponse__Output as _containerd_services_sandbox_v1_StoreDeleteResponse__Output } from './containerd/services/sandbox/v1/StoreDeleteResponse.js';
import type { StoreListRequest as _containerd_services_sandbox_v1_StoreListRequest, StoreListRequest__Output as _containerd_services_sandbox_v1_StoreListRequest__Output } from './containerd/services/sandbox/v1/StoreListRequest.js';
import type { StoreListResponse as _containerd_services_sandbox_v1_StoreListResponse, StoreListResponse__Output as _containerd_services_sandbox_v1_StoreListResponse__Output } from './containerd/services/sandbox/v1/StoreListResponse.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  containerd: {
    services: {
      sandbox: {
        v1: {
          Sandbox: MessageTypeDefinition<_containerd_services_sandbox_v1_Sandbox, _containerd_services_sandbox_v1_Sandbox__Output>
          Store: SubtypeConstructor<typeof grpc.Client, _containerd_services_sandbox_v1_StoreClient> & { service: _containerd_services_sandbox_v1_StoreDefinition }
          StoreCreateRequest: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreCreateRequest, _containerd_services_sandbox_v1_StoreCreateRequest__Output>
          StoreCreateResponse: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreCreateResponse, _containerd_services_sandbox_v1_StoreCreateResponse__Output>
          StoreDeleteRequest: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreDeleteRequest, _containerd_services_sandbox_v1_StoreDeleteRequest__Output>
          StoreDeleteResponse: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreDeleteResponse, _containerd_services_sandbox_v1_StoreDeleteResponse__Output>
          StoreListRequest: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreListRequest, _containerd_services_sandbox_v1_StoreListRequest__Output>
          StoreListResponse: MessageTypeDefinition<_containerd_services_sandbox_v1_StoreListResponse, _containerd_services_sandbox_v1_StoreListResponse__Output>
        }
      }
    }
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

