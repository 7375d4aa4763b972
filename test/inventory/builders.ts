/**
 * Hand-built inventories for the classification tests: every object takes only
 * the fields a rule looks at, the rest get neutral defaults.
 */
import type {
  ContainerInfo,
  ContentInfo,
  ImageInfo,
  IngestStatus,
  Labels,
  LeaseResource,
  SnapshotKind,
} from "../../src/containerd/types.js";
import { LABEL } from "../../src/inventory/states.js";
import type { Inventory, LeaseEntry, NamespaceInventory, SnapshotEntry } from "../../src/inventory/types.js";

/** A fixed "now" (epoch seconds) the tests classify at. */
export const NOW = 1_750_000_000;
export const SECOND = 1;
export const MINUTE = 60;
export const HOUR = 3600;

/** A digest that looks like one: sha256 of nothing in particular, padded from a short tag. */
export function digest(tag: string): string {
  const hex = Buffer.from(tag).toString("hex");
  return `sha256:${hex.padEnd(64, "0").slice(0, 64)}`;
}

export function blob(digestOrTag: string, size: number, labels: Labels = {}): ContentInfo {
  const d = digestOrTag.startsWith("sha256:") ? digestOrTag : digest(digestOrTag);
  return { digest: d, size, createdAt: NOW - HOUR, updatedAt: NOW - HOUR, labels };
}

export interface SnapshotOptions {
  parent?: string;
  kind?: SnapshotKind;
  /** Bytes on disk; null when containerd could not measure it. Default 0. */
  usage?: number | null;
  labels?: Labels;
}

export function snapshot(snapshotter: string, name: string, opts: SnapshotOptions = {}): SnapshotEntry {
  const usage = opts.usage === undefined ? 0 : opts.usage;
  return {
    snapshotter,
    name,
    parent: opts.parent ?? "",
    kind: opts.kind ?? "committed",
    createdAt: NOW - HOUR,
    updatedAt: NOW - HOUR,
    labels: opts.labels ?? {},
    usage: usage === null ? null : { size: usage, inodes: 1 },
  };
}

/** Epoch seconds → RFC 3339 as containerd's clients write it. */
export function rfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(".000Z", "Z");
}

export interface LeaseOptions {
  createdAt: number;
  /** Epoch seconds (written as RFC 3339), a verbatim label value, or null/absent for no gc.expire. */
  expire?: number | string | null;
  labels?: Labels;
  resources?: LeaseResource[];
}

export function lease(id: string, opts: LeaseOptions): LeaseEntry {
  const labels: Labels = { ...(opts.labels ?? {}) };
  if (typeof opts.expire === "number") labels[LABEL.expire] = rfc3339(opts.expire);
  else if (typeof opts.expire === "string") labels[LABEL.expire] = opts.expire;
  return { id, createdAt: opts.createdAt, labels, resources: opts.resources ?? [] };
}

/** Lease resources, named the way containerd's ListResources names them. */
export const res = {
  content: (digestOrTag: string): LeaseResource => ({
    type: "content",
    id: digestOrTag.startsWith("sha256:") ? digestOrTag : digest(digestOrTag),
  }),
  ingest: (ref: string): LeaseResource => ({ type: "ingests", id: ref }),
  snapshot: (snapshotter: string, key: string): LeaseResource => ({ type: `snapshots/${snapshotter}`, id: key }),
  image: (name: string): LeaseResource => ({ type: "images", id: name }),
};

export interface IngestOptions {
  offset: number;
  total?: number;
  updatedAt: number;
  startedAt?: number;
}

export function ingest(ref: string, opts: IngestOptions): IngestStatus {
  return {
    ref,
    offset: opts.offset,
    total: opts.total ?? opts.offset * 2,
    expected: "",
    startedAt: opts.startedAt ?? opts.updatedAt - MINUTE,
    updatedAt: opts.updatedAt,
  };
}

export function image(name: string, targetDigestOrTag: string, labels: Labels = {}): ImageInfo {
  const d = targetDigestOrTag.startsWith("sha256:") ? targetDigestOrTag : digest(targetDigestOrTag);
  return {
    name,
    target: { mediaType: "application/vnd.oci.image.index.v1+json", digest: d, size: 0 },
    labels,
    createdAt: NOW - HOUR,
    updatedAt: NOW - HOUR,
  };
}

export function container(id: string, snapshotter: string, key: string, labels: Labels = {}): ContainerInfo {
  return { id, image: "", snapshotter, snapshotKey: key, labels, createdAt: NOW - HOUR };
}

export type NamespaceParts = Partial<Omit<NamespaceInventory, "name">>;

export function namespace(name: string, parts: NamespaceParts = {}): NamespaceInventory {
  return {
    name,
    leases: parts.leases ?? [],
    content: parts.content ?? [],
    ingests: parts.ingests ?? [],
    snapshots: parts.snapshots ?? [],
    images: parts.images ?? [],
    containers: parts.containers ?? [],
    sandboxes: parts.sandboxes ?? [],
    failed: parts.failed ?? [],
  };
}

export function inventory(namespaces: NamespaceInventory[], readAt: number = NOW): Inventory {
  return {
    readAt,
    up: true,
    containerd: { version: "v1.6.20", revision: "test" },
    snapshotters: ["overlayfs", "native"],
    namespaces,
    collectors: [],
  };
}

/** Label keys, short. */
export const ref = {
  content: (suffix = ""): string => `${LABEL.refContent}${suffix}`,
  snapshot: (snapshotter: string, suffix = ""): string => `${LABEL.refSnapshot}${snapshotter}${suffix}`,
};
