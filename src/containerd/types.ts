/**
 * containerd's objects as plain data: timestamps in seconds since the epoch
 * (fractional), 64-bit integers as numbers (safe up to 8 PiB).
 */
export type Labels = Record<string, string>;

export interface Lease {
  id: string;
  createdAt: number;
  labels: Labels;
}

/** type is "content", "ingests", "snapshots/<snapshotter>" or (containerd 2.x) "images". */
export interface LeaseResource {
  type: string;
  id: string;
}

export interface ContentInfo {
  digest: string;
  size: number;
  createdAt: number;
  updatedAt: number;
  labels: Labels;
}

/** An ingest: a write into the content store that is not committed yet. */
export interface IngestStatus {
  ref: string;
  offset: number;
  total: number;
  expected: string;
  startedAt: number;
  updatedAt: number;
}

export type SnapshotKind = "active" | "committed" | "view" | "unknown";

export interface SnapshotInfo {
  name: string;
  parent: string;
  kind: SnapshotKind;
  createdAt: number;
  updatedAt: number;
  labels: Labels;
}

/**
 * A snapshot as one snapshotter lists it, with room for its disk usage: measured after the
 * listing and filled in place, null until then (and when containerd could not measure it).
 */
export interface SnapshotRecord extends SnapshotInfo {
  snapshotter: string;
  usage: SnapshotUsage | null;
}

export interface SnapshotUsage {
  size: number;
  inodes: number;
}

export interface ImageInfo {
  name: string;
  target: { mediaType: string; digest: string; size: number };
  labels: Labels;
  createdAt: number;
  updatedAt: number;
}

export interface ContainerInfo {
  id: string;
  image: string;
  snapshotter: string;
  snapshotKey: string;
  labels: Labels;
  createdAt: number;
}

/** A sandbox store object (a CRI pod sandbox on containerd >= 2.1). */
export interface SandboxInfo {
  id: string;
  labels: Labels;
  createdAt: number;
}

export interface PluginInfo {
  type: string;
  id: string;
  exports: Labels;
  initError?: string;
}

export interface VersionInfo {
  version: string;
  revision: string;
}
