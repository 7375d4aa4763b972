import type { ContainerInfo, ContentInfo, ImageInfo, IngestStatus } from "../containerd/types.js";
import { buildGraph, type Graph, markLevels, type Root, Walker } from "./graph.js";
import { isIdle, leaseExpiry, leaseState } from "./lease-state.js";
import {
  type IngestState,
  LABEL,
  type LeaseState,
  type Policy,
  RECLAIMABLE_STATES,
  RESOURCE_STATES,
  type ResourceState,
  type StoreResource,
} from "./states.js";
import type { Inventory, LeaseEntry, NamespaceInventory, SnapshotEntry } from "./types.js";

export interface ClassifiedLease extends LeaseEntry {
  state: LeaseState;
  /** Epoch seconds, null when it never expires. */
  expiresAt: number | null;
  flat: boolean;
  /** Bytes this lease reaches that nothing outside leases (image, container, gc.root) needs. */
  heldBytes: number;
}
export interface ClassifiedBlob extends ContentInfo {
  state: ResourceState;
}
export interface ClassifiedSnapshot extends SnapshotEntry {
  state: ResourceState;
}
export interface ClassifiedIngest extends IngestStatus {
  state: IngestState;
  /** Ids of the leases that hold it. */
  leases: string[];
}

export interface ClassifiedNamespace {
  name: string;
  /** Every collector read this namespace; only then is its classification trusted. */
  complete: boolean;
  failed: string[];
  leases: ClassifiedLease[];
  content: ClassifiedBlob[];
  snapshots: ClassifiedSnapshot[];
  ingests: ClassifiedIngest[];
  images: ImageInfo[];
  containers: ContainerInfo[];
}

export type ByResource = Record<StoreResource, number>;

export interface ClassifiedInventory {
  inventory: Inventory;
  policy: Policy;
  /** Epoch seconds the classification was made for. */
  now: number;
  namespaces: ClassifiedNamespace[];
  /** Bytes on disk for the node: each blob digest counted once. */
  store: ByResource;
  /** What a prune under `policy` would free: the alerting figure. */
  reclaimable: ByResource;
}

// Priority levels of the walk: the index is the resource state.
const IN_USE = 0;
const PINNED = 1;
const LEASED = 2;
const STALE = 3;

function leaseLevel(state: LeaseState): number {
  if (state === "permanent") return PINNED;
  if (state === "active") return LEASED;
  return STALE;
}

/** The graph nodes a lease lists (those still in the graph). */
function leaseRoots(graph: Graph, lease: LeaseEntry, flat: boolean): Root[] {
  const roots: Root[] = [];
  for (const r of lease.resources) {
    const id = graph.resourceId(r);
    if (id !== undefined) roots.push({ id, flat });
  }
  return roots;
}

/** What containerd's GC treats as always live: images, containers, gc.root-labelled objects. */
function inUseRoots(graph: Graph, ns: NamespaceInventory): Root[] {
  const ids: number[] = [];
  for (const image of ns.images) {
    const id = graph.imageId(image.name);
    if (id !== undefined) ids.push(id);
  }
  for (const c of ns.containers) {
    if (c.snapshotKey) {
      const id = graph.snapshotId(c.snapshotter, c.snapshotKey);
      if (id !== undefined) ids.push(id);
    }
    graph.labelRefIds(c.labels, ids);
  }
  ns.content.forEach((b, i) => {
    if (LABEL.root in b.labels) ids.push(graph.contentIds[i] as number);
  });
  ns.snapshots.forEach((s, i) => {
    if (LABEL.root in s.labels) ids.push(graph.snapshotIds[i] as number);
  });
  return ids.map((id) => ({ id, flat: false }));
}

function heldBytes(graph: Graph, walker: Walker, roots: Root[], levels: Int8Array): number {
  let total = 0;
  walker.reset().walk(roots, (id) => {
    if (levels[id] !== IN_USE) total += graph.bytesOf(id);
  });
  return total;
}

function ingestState(ingest: IngestStatus, holders: ClassifiedLease[], policy: Policy, now: number): IngestState {
  if (holders.some((l) => l.state === "permanent")) return "pinned";
  if (isIdle(ingest, policy, now) && !holders.some((l) => l.state === "active")) return "stale";
  return "leased";
}

export function classifyNamespace(ns: NamespaceInventory, policy: Policy, now: number): ClassifiedNamespace {
  const graph = buildGraph(ns);
  const ingestsByRef = new Map(ns.ingests.map((i) => [i.ref, i]));
  const leases = ns.leases.map((lease) => {
    const flat = LABEL.flat in lease.labels;
    return { lease, state: leaseState(lease, ingestsByRef, policy, now), flat, roots: leaseRoots(graph, lease, flat) };
  });
  const rootsAt: Root[][] = [inUseRoots(graph, ns), [], [], []];
  for (const l of leases) for (const root of l.roots) rootsAt[leaseLevel(l.state)]!.push(root);
  const levels = markLevels(graph, rootsAt);
  const stateOf = (id: number): ResourceState => RESOURCE_STATES[levels[id] === -1 ? STALE + 1 : (levels[id] as number)]!;
  const walker = new Walker(graph);

  const classifiedLeases: ClassifiedLease[] = leases.map(({ lease, state, flat, roots }) => ({
    ...lease,
    state,
    flat,
    expiresAt: leaseExpiry(lease.labels),
    heldBytes: state === "active" ? 0 : heldBytes(graph, walker, roots, levels),
  }));
  const holders = new Map<string, ClassifiedLease[]>();
  for (const lease of classifiedLeases) {
    for (const r of lease.resources) {
      if (r.type !== "ingests") continue;
      const list = holders.get(r.id);
      if (list) list.push(lease);
      else holders.set(r.id, [lease]);
    }
  }
  return {
    name: ns.name,
    complete: ns.failed.length === 0,
    failed: ns.failed,
    leases: classifiedLeases,
    // `state` first: V8 builds `{ ...x, state }` as a copy plus one more property (about 390 B
    // per blob), `{ state, ...x }` in one go (about 225 B): 5 MB less on a 20k-blob host.
    content: ns.content.map((b, i) => ({ state: stateOf(graph.contentIds[i]!), ...b })),
    snapshots: ns.snapshots.map((s, i) => ({ state: stateOf(graph.snapshotIds[i]!), ...s })),
    ingests: ns.ingests.map((i) => {
      const by = holders.get(i.ref) ?? [];
      return { ...i, state: ingestState(i, by, policy, now), leases: by.map((l) => l.id) };
    }),
    images: ns.images,
    containers: ns.containers,
  };
}

/**
 * Node-wide figures. Blob data is shared between namespaces on disk, so a
 * digest counts once, and it is reclaimable only when every namespace that
 * has it could let it go. Incomplete namespaces never count as reclaimable.
 */
function nodeTotals(namespaces: ClassifiedNamespace[]): { store: ByResource; reclaimable: ByResource } {
  const store: ByResource = { content: 0, snapshot: 0, ingest: 0 };
  const reclaimable: ByResource = { content: 0, snapshot: 0, ingest: 0 };
  // Per digest (first-seen order): the last size seen, and whether every namespace could free it.
  const blobIndex = new Map<string, number>();
  const blobSizes: number[] = [];
  const blobFree: boolean[] = [];
  for (const ns of namespaces) {
    for (const blob of ns.content) {
      const free = ns.complete && RECLAIMABLE_STATES.has(blob.state);
      const seen = blobIndex.get(blob.digest);
      if (seen === undefined) {
        blobIndex.set(blob.digest, blobSizes.length);
        blobSizes.push(blob.size);
        blobFree.push(free);
      } else {
        blobSizes[seen] = blob.size;
        blobFree[seen] = (blobFree[seen] as boolean) && free;
      }
    }
    for (const snap of ns.snapshots) {
      const bytes = snap.usage?.size ?? 0;
      store.snapshot += bytes;
      if (ns.complete && RECLAIMABLE_STATES.has(snap.state)) reclaimable.snapshot += bytes;
    }
    for (const ingest of ns.ingests) {
      store.ingest += ingest.offset;
      if (ns.complete && ingest.state === "stale") reclaimable.ingest += ingest.offset;
    }
  }
  blobSizes.forEach((size, i) => {
    store.content += size;
    if (blobFree[i]) reclaimable.content += size;
  });
  return { store, reclaimable };
}

/** The pure heart of the exporter: inventory + policy + now → what is held, by whom, and what may go. */
export function classify(inventory: Inventory, policy: Policy, now: number): ClassifiedInventory {
  const namespaces = inventory.namespaces.map((ns) => classifyNamespace(ns, policy, now));
  return { inventory, policy, now, namespaces, ...nodeTotals(namespaces) };
}

