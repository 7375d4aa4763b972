import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType as ContainersProto } from "./generated/containers.js";
import type { ProtoGrpcType as ContentProto } from "./generated/content.js";
import type { ProtoGrpcType as ImagesProto } from "./generated/images.js";
import type { ProtoGrpcType as IntrospectionProto } from "./generated/introspection.js";
import type { ProtoGrpcType as LeasesProto } from "./generated/leases.js";
import type { ProtoGrpcType as SandboxProto } from "./generated/sandbox.js";
import type { ProtoGrpcType as NamespacesProto } from "./generated/namespace.js";
import type { ProtoGrpcType as SnapshotsProto } from "./generated/snapshots.js";
import type { ProtoGrpcType as VersionProto } from "./generated/version.js";
import { packageRoot } from "../util/package.js";

export type ContainerdProto = ContainersProto &
  ContentProto &
  ImagesProto &
  IntrospectionProto &
  LeasesProto &
  NamespacesProto &
  SandboxProto &
  SnapshotsProto &
  VersionProto;

export const PROTO_FILES = [
  "containerd/services/namespaces/v1/namespace.proto",
  "containerd/services/leases/v1/leases.proto",
  "containerd/services/content/v1/content.proto",
  "containerd/services/snapshots/v1/snapshots.proto",
  "containerd/services/images/v1/images.proto",
  "containerd/services/containers/v1/containers.proto",
  "containerd/services/sandbox/v1/sandbox.proto",
  "containerd/services/introspection/v1/introspection.proto",
  "containerd/services/version/v1/version.proto",
];

/** Must match the flags of `npm run proto:gen`, or the generated types lie. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function protoDir(): string {
  return join(packageRoot(), "proto");
}

let cached: ContainerdProto | undefined;

export function loadContainerdProto(): ContainerdProto {
  cached ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoDir()] }),
  ) as unknown as ContainerdProto;
  return cached;
}
