import type { ContainerInfo, ContentInfo, ImageInfo, IngestStatus } from "../containerd/types.js";
import {
  buildGraph,
  contentNode,
  type Graph,
  markLevels,
  type NodeKey,
  reach,
  imageNode,
  labelRefs,
  resourceNode,
  type Root,
  snapshotNode,
} from "./graph.js";
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

function leaseRoots(lease: LeaseEntry, flat: boolean): Root[] {
  return lease.resources.flatMap((r) => {
    const node = resourceNode(r);
    return node === undefined ? [] : [{ node, flat }];
  });
}

/** What containerd's GC treats as always live: images, containers, gc.root-labelled objects. */
function inUseRoots(ns: NamespaceInventory): Root[] {
  const nodes: NodeKey[] = [
    ...ns.images.map((image) => imageNode(image.name)),
    ...ns.containers.flatMap((c) => [
      ...(c.snapshotKey ? [snapshotNode(c.snapshotter, c.snapshotKey)] : []),
      ...labelRefs(c.labels),
    ]),
    ...ns.content.filter((b) => LABEL.root in b.labels).map((b) => contentNode(b.digest)),
    ...ns.snapshots.filter((s) => LABEL.root in s.labels).map((s) => snapshotNode(s.snapshotter, s.name)),
  ];
  return nodes.map((node) => ({ node, flat: false }));
}

function heldBytes(graph: Graph, roots: Root[], levels: Map<NodeKey, number>): number {
  let total = 0;
  for (const node of reach(graph, roots)) if (levels.get(node) !== IN_USE) total += graph.bytes(node);
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
  const leases = ns.leases.map((lease) => ({
    lease,
    state: leaseState(lease, ingestsByRef, policy, now),
    flat: LABEL.flat in lease.labels,
  }));
  const rootsAt: Root[][] = [inUseRoots(ns), [], [], []];
  for (const l of leases) rootsAt[leaseLevel(l.state)]!.push(...leaseRoots(l.lease, l.flat));
  const levels = markLevels(graph, rootsAt);
  const stateOf = (node: NodeKey): ResourceState => RESOURCE_STATES[levels.get(node) ?? STALE + 1]!;

  const classifiedLeases: ClassifiedLease[] = leases.map(({ lease, state, flat }) => ({
    ...lease,
    state,
    flat,
    expiresAt: leaseExpiry(lease.labels),
    heldBytes: state === "active" ? 0 : heldBytes(graph, leaseRoots(lease, flat), levels),
  }));
  const holders = new Map<string, ClassifiedLease[]>();
  for (const lease of classifiedLeases) {
    for (const r of lease.resources) {
      if (r.type === "ingests") holders.set(r.id, [...(holders.get(r.id) ?? []), lease]);
    }
  }
  return {
    name: ns.name,
    complete: ns.failed.length === 0,
    failed: ns.failed,
    leases: classifiedLeases,
    content: ns.content.map((b) => ({ ...b, state: stateOf(contentNode(b.digest)) })),
    snapshots: ns.snapshots.map((s) => ({ ...s, state: stateOf(snapshotNode(s.snapshotter, s.name)) })),
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
  const blobs = new Map<string, { size: number; reclaimable: boolean }>();
  for (const ns of namespaces) {
    for (const blob of ns.content) {
      const free = ns.complete && RECLAIMABLE_STATES.has(blob.state);
      const seen = blobs.get(blob.digest);
      blobs.set(blob.digest, { size: blob.size, reclaimable: (seen?.reclaimable ?? true) && free });
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
  for (const blob of blobs.values()) {
    store.content += blob.size;
    if (blob.reclaimable) reclaimable.content += blob.size;
  }
  return { store, reclaimable };
}

/** The pure heart of the exporter: inventory + policy + now → what is held, by whom, and what may go. */
export function classify(inventory: Inventory, policy: Policy, now: number): ClassifiedInventory {
  const namespaces = inventory.namespaces.map((ns) => classifyNamespace(ns, policy, now));
  return { inventory, policy, now, namespaces, ...nodeTotals(namespaces) };
}

