// Original file: proto/containerd/services/namespaces/v1/namespace.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ListNamespacesRequest as _containerd_services_namespaces_v1_ListNamespacesRequest, ListNamespacesRequest__Output as _containerd_services_namespaces_v1_ListNamespacesRequest__Output } from '../../../../containerd/services/namespaces/v1/ListNamespacesRequest.js';
import type { ListNamespacesResponse as _containerd_services_namespaces_v1_ListNamespacesResponse, ListNamespacesResponse__Output as _containerd_services_namespaces_v1_ListNamespacesResponse__Output } from '../../../../containerd/services/namespaces/v1/ListNamespacesResponse.js';

export interface NamespacesClient extends grpc.Client {
  List(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _containerd_services_namespaces_v1_ListNamespacesRequest, callback: grpc.requestCallback<_containerd_services_namespaces_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface NamespacesHandlers extends grpc.UntypedServiceImplementation {
  List: grpc.handleUnaryCall<_containerd_services_namespaces_v1_ListNamespacesRequest__Output, _containerd_services_namespaces_v1_ListNamespacesResponse>;
  
}

export interface NamespacesDefinition extends grpc.ServiceDefinition {
  List: MethodDefinition<_containerd_services_namespaces_v1_ListNamespacesRequest, _containerd_services_namespaces_v1_ListNamespacesResponse, _containerd_services_namespaces_v1_ListNamespacesRequest__Output, _containerd_services_namespaces_v1_ListNamespacesResponse__Output>
}
