// Reading a namespace's state the way an operator would: through `ctr`, parsed into plain data.
// (Lease *resources* are not visible through ctr 1.6 at all; use the gRPC Leases/ListResources.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ctr, type CtrTarget } from "./ctr.js";
import { parseHumanSize, parseLabels, parseTable } from "./table.js";

export interface LeaseRow {
  id: string;
  createdAt: string;
  labels: Record<string, string>;
}

export async function listLeases(lab: CtrTarget, ns: string): Promise<LeaseRow[]> {
  const rows = parseTable(await ctr(lab, ns, ["leases", "ls"]), ["ID", "CREATED AT", "LABELS"]);
  return rows.map((r) => ({ id: r.ID!, createdAt: r["CREATED AT"]!, labels: parseLabels(r.LABELS!) }));
}

export interface IngestRow {
  /** Client-chosen ingest ref, e.g. "layer-sha256:<hex>" (ctr pulls: "<kind>-<digest>"). */
  ref: string;
  /** ctr's human-readable offset, e.g. "1.049MB" (decimal units, 4 significant digits). */
  sizeText: string;
  /** sizeText in bytes: approximate. */
  approxOffset: number;
}

/** `ctr content active`: partial downloads. ctr shows neither the exact offset nor the total. */
export async function listIngests(lab: CtrTarget, ns: string): Promise<IngestRow[]> {
  const rows = parseTable(await ctr(lab, ns, ["content", "active"]), ["REF", "SIZE", "AGE"]);
  return rows.map((r) => ({ ref: r.REF!, sizeText: r.SIZE!, approxOffset: parseHumanSize(r.SIZE!) }));
}

export interface IngestOnDisk {
  namespace: string;
  ref: string;
  /** Bytes written so far (size of the ingest's data file). */
  offset: number;
  /** Expected total size, when the client declared one (ctr pulls do). */
  total: number | undefined;
}

/**
 * Exact ingest offsets, read from the content store's files (ingest/<hash>/{ref,data,total}).
 * containerd internals, for tests only: ctr rounds offsets and omits totals. The stored ref is
 * "<namespace>/<n>/<ref>" in containerd 1.6.
 */
export function ingestsOnDisk(root: string, ns?: string): IngestOnDisk[] {
  const dir = join(root, "io.containerd.content.v1.content", "ingest");
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const found: IngestOnDisk[] = [];
  for (const entry of entries) {
    const ingest = readIngest(join(dir, entry));
    if (ingest && (ns === undefined || ingest.namespace === ns)) found.push(ingest);
  }
  return found;
}

function readIngest(path: string): IngestOnDisk | undefined {
  try {
    const stored = readFileSync(join(path, "ref"), "utf8");
    const match = /^([^/]+)\/\d+\/(.+)$/.exec(stored);
    if (!match) return undefined;
    let total: number | undefined;
    try {
      total = Number(readFileSync(join(path, "total"), "utf8"));
    } catch {
      total = undefined;
    }
    return { namespace: match[1]!, ref: match[2]!, offset: statSync(join(path, "data")).size, total };
  } catch {
    return undefined; // committed or aborted while we looked
  }
}

export interface SnapshotRow {
  key: string;
  parent: string;
  kind: "Active" | "Committed" | "View";
}

export async function listSnapshots(lab: CtrTarget, ns: string, snapshotter = "overlayfs"): Promise<SnapshotRow[]> {
  const text = await ctr(lab, ns, ["snapshots", "--snapshotter", snapshotter, "ls"]);
  return parseTable(text, ["KEY", "PARENT", "KIND"]).map((r) => ({
    key: r.KEY!,
    parent: r.PARENT!,
    kind: r.KIND! as SnapshotRow["kind"],
  }));
}

export interface SnapshotUsageRow {
  key: string;
  bytes: number;
  inodes: number;
}

/** `ctr snapshots usage -b`: exact disk usage per snapshot (walks the directory of active ones). */
export async function snapshotUsage(lab: CtrTarget, ns: string, snapshotter = "overlayfs"): Promise<SnapshotUsageRow[]> {
  const text = await ctr(lab, ns, ["snapshots", "--snapshotter", snapshotter, "usage", "-b"]);
  return parseTable(text, ["KEY", "SIZE", "INODES"]).map((r) => ({
    key: r.KEY!,
    bytes: Number(r.SIZE),
    inodes: Number(r.INODES),
  }));
}

export interface ContentRow {
  digest: string;
  sizeText: string;
  labels: Record<string, string>;
}

export async function listContent(lab: CtrTarget, ns: string): Promise<ContentRow[]> {
  const rows = parseTable(await ctr(lab, ns, ["content", "ls"]), ["DIGEST", "SIZE", "AGE", "LABELS"]);
  return rows.map((r) => ({ digest: r.DIGEST!, sizeText: r.SIZE!, labels: parseLabels(r.LABELS!) }));
}

export interface ImageRow {
  ref: string;
  mediaType: string;
  digest: string;
  sizeText: string;
  platforms: string;
  labels: Record<string, string>;
}

export async function listImages(lab: CtrTarget, ns: string): Promise<ImageRow[]> {
  const columns = ["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"];
  return parseTable(await ctr(lab, ns, ["images", "ls"]), columns).map((r) => ({
    ref: r.REF!,
    mediaType: r.TYPE!,
    digest: r.DIGEST!,
    sizeText: r.SIZE!,
    platforms: r.PLATFORMS!,
    labels: parseLabels(r.LABELS!),
  }));
}

export interface ContainerInfo {
  id: string;
  image: string;
  snapshotter: string;
  snapshotKey: string;
  labels: Record<string, string>;
}

/** `ctr containers info` (JSON). */
export async function containerInfo(lab: CtrTarget, ns: string, id: string): Promise<ContainerInfo> {
  const info = JSON.parse(await ctr(lab, ns, ["containers", "info", id])) as {
    ID: string;
    Image: string;
    Snapshotter: string;
    SnapshotKey: string;
    Labels: Record<string, string> | null;
  };
  return { id: info.ID, image: info.Image, snapshotter: info.Snapshotter, snapshotKey: info.SnapshotKey, labels: info.Labels ?? {} };
}

export async function listContainerIds(lab: CtrTarget, ns: string): Promise<string[]> {
  return (await ctr(lab, ns, ["containers", "ls", "-q"])).split("\n").filter(Boolean);
}
