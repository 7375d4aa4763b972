import type {
  ContainerInfo,
  ContentInfo,
  ImageInfo,
  IngestStatus,
  Lease,
  LeaseResource,
  SandboxInfo,
  SnapshotInfo,
  SnapshotUsage,
  VersionInfo,
} from "../containerd/types.js";

export interface LeaseEntry extends Lease {
  resources: LeaseResource[];
}

export interface SnapshotEntry extends SnapshotInfo {
  snapshotter: string;
  /** null when containerd could not measure it (removed between List and Usage). */
  usage: SnapshotUsage | null;
}

/** What a namespace holds; the parts a collector failed to read stay empty and are named in `failed`. */
export interface NamespaceInventory {
  name: string;
  leases: LeaseEntry[];
  content: ContentInfo[];
  ingests: IngestStatus[];
  snapshots: SnapshotEntry[];
  images: ImageInfo[];
  containers: ContainerInfo[];
  /** Sandbox store objects (containerd >= 1.7; always empty on 1.6). */
  sandboxes: SandboxInfo[];
  failed: CollectorName[];
}

export type NamespacePart = "leases" | "content" | "ingests" | "snapshots" | "images" | "containers" | "sandboxes";
export type CollectorName = NamespacePart | "namespaces" | "version";

export interface CollectorReport {
  collector: CollectorName;
  success: boolean;
  durationSeconds: number;
  errors: string[];
}

/** One read of containerd's state: what /metrics, df, the API and the prune all start from. */
export interface Inventory {
  /** Seconds since the epoch when the read started. */
  readAt: number;
  /** containerd answered the namespace listing. */
  up: boolean;
  containerd: VersionInfo | null;
  /** Snapshotter plugins that loaded. */
  snapshotters: string[];
  namespaces: NamespaceInventory[];
  collectors: CollectorReport[];
}

export function emptyNamespace(name: string): NamespaceInventory {
  return { name, leases: [], content: [], ingests: [], snapshots: [], images: [], containers: [], sandboxes: [], failed: [] };
}
