import type { Labels, LeaseResource } from "../containerd/types.js";
import { LABEL } from "./states.js";
import type { NamespaceInventory } from "./types.js";

/**
 * containerd's garbage-collection graph of one namespace: nodes are content
 * blobs, snapshots, ingests and images; edges are the ones metadata/gc.go
 * follows (gc.ref labels, snapshot parents, image targets).
 */
export type NodeKey = string;

export const contentNode = (digest: string): NodeKey => `c\u0000${digest}`;
export const snapshotNode = (snapshotter: string, key: string): NodeKey => `s\u0000${snapshotter}\u0000${key}`;
export const ingestNode = (ref: string): NodeKey => `i\u0000${ref}`;
export const imageNode = (name: string): NodeKey => `m\u0000${name}`;

/** The node a lease resource names, or undefined for a type this version does not know. */
export function resourceNode(resource: LeaseResource): NodeKey | undefined {
  if (resource.type === "content") return contentNode(resource.id);
  if (resource.type === "ingests") return ingestNode(resource.id);
  if (resource.type === "images") return imageNode(resource.id);
  if (resource.type.startsWith("snapshots/")) return snapshotNode(resource.type.slice("snapshots/".length), resource.id);
  return undefined;
}

/** gc.ref.content, gc.ref.content.<x>, gc.ref.content/<x>, gc.ref.snapshot.<snapshotter>[/<x>]. */
export function labelRefs(labels: Labels): NodeKey[] {
  const refs: NodeKey[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith(LABEL.refContent)) {
      const next = key.charAt(LABEL.refContent.length);
      if (next === "" || next === "." || next === "/") refs.push(contentNode(value));
    } else if (key.startsWith(LABEL.refSnapshot)) {
      const snapshotter = key.slice(LABEL.refSnapshot.length).split("/")[0];
      if (snapshotter) refs.push(snapshotNode(snapshotter, value));
    }
  }
  return refs;
}

export interface Graph {
  has(node: NodeKey): boolean;
  children(node: NodeKey): NodeKey[];
  /**
   * What a flat lease's resource still keeps: a snapshot's parent (a snapshot
   * cannot outlive its parent, so containerd's GC keeps the whole chain), an
   * image's target. Labels are not followed.
   */
  flatChildren(node: NodeKey): NodeKey[];
  /** Bytes on disk of the node itself (content size, snapshot usage, ingest offset; 0 for images). */
  bytes(node: NodeKey): number;
}

/**
 * The graph with every node numbered. Nodes are found by their own identifiers (digest,
 * snapshotter and name, ingest ref, image name) in per-kind maps, and children are resolved to
 * node numbers once, on first use, so classification builds no node-key strings and walks plain
 * arrays. Behaves exactly like the string-keyed Graph it also implements (same nodes, same
 * edges, the last object with a given key wins).
 */
export class IndexedGraph implements Graph {
  /** Node number of each of the namespace's blobs and snapshots, in inventory order. */
  readonly contentIds: number[] = [];
  readonly snapshotIds: number[] = [];
  private readonly contentById = new Map<string, number>();
  private readonly snapshotById = new Map<string, Map<string, number>>();
  private readonly ingestById = new Map<string, number>();
  private readonly imageById = new Map<string, number>();
  private count = 0;
  private readonly sizes: number[] = [];
  /** What a node's edges come from. */
  private readonly kinds: ("c" | "s" | "i" | "m")[] = [];
  private readonly labels: (Labels | undefined)[] = [];
  /** A snapshot's snapshotter. */
  private readonly snapshotters: (string | undefined)[] = [];
  /** A snapshot's parent name or an image's target digest (its flat edge too). */
  private readonly links: (string | undefined)[] = [];
  /** The flat edge as containerd keeps it: set by a snapshot with a parent or by an image. */
  private readonly flatLinks: (string | undefined)[] = [];
  private readonly resolved: (number[] | undefined)[] = [];
  private readonly resolvedFlat: (number[] | undefined)[] = [];

  private node(map: Map<string, number>, id: string): number {
    let n = map.get(id);
    if (n === undefined) {
      n = this.count++;
      map.set(id, n);
    }
    return n;
  }

  addContent(blob: { digest: string; size: number; labels: Labels }): number {
    const n = this.node(this.contentById, blob.digest);
    this.set(n, "c", blob.size, blob.labels, undefined, undefined);
    this.flatLinks[n] = undefined;
    return n;
  }

  addSnapshot(snap: { snapshotter: string; name: string; parent: string; labels: Labels; usage: { size: number } | null }): number {
    let names = this.snapshotById.get(snap.snapshotter);
    if (!names) this.snapshotById.set(snap.snapshotter, (names = new Map()));
    const n = this.node(names, snap.name);
    this.set(n, "s", snap.usage?.size ?? 0, snap.labels, snap.snapshotter, snap.parent || undefined);
    if (snap.parent) this.flatLinks[n] = snap.parent;
    return n;
  }

  addIngest(ingest: { ref: string; offset: number }): number {
    const n = this.node(this.ingestById, ingest.ref);
    this.set(n, "i", ingest.offset, undefined, undefined, undefined);
    this.flatLinks[n] = undefined;
    return n;
  }

  addImage(image: { name: string; target: { digest: string }; labels: Labels }): number {
    const n = this.node(this.imageById, image.name);
    this.set(n, "m", 0, image.labels, undefined, image.target.digest);
    this.flatLinks[n] = image.target.digest;
    return n;
  }

  private set(n: number, kind: "c" | "s" | "i" | "m", bytes: number, labels: Labels | undefined, snapshotter: string | undefined, link: string | undefined): void {
    this.kinds[n] = kind;
    this.sizes[n] = bytes;
    this.labels[n] = labels;
    this.snapshotters[n] = snapshotter;
    this.links[n] = link;
  }

  get size(): number {
    return this.count;
  }

  contentId(digest: string): number | undefined {
    return this.contentById.get(digest);
  }

  snapshotId(snapshotter: string, name: string): number | undefined {
    return this.snapshotById.get(snapshotter)?.get(name);
  }

  imageId(name: string): number | undefined {
    return this.imageById.get(name);
  }

  /** The node a lease resource names (resourceNode), if it is in the graph. */
  resourceId(resource: LeaseResource): number | undefined {
    const { type, id } = resource;
    if (type === "content") return this.contentById.get(id);
    if (type === "ingests") return this.ingestById.get(id);
    if (type === "images") return this.imageById.get(id);
    if (type.startsWith("snapshots/")) return this.snapshotId(type.slice("snapshots/".length), id);
    return undefined;
  }

  /** The nodes labelRefs(labels) names that are in the graph, appended to `out`. */
  labelRefIds(labels: Labels, out: number[]): number[] {
    for (const key of Object.keys(labels)) {
      let n: number | undefined;
      if (key.startsWith(LABEL.refContent)) {
        const next = key.charAt(LABEL.refContent.length);
        if (next === "" || next === "." || next === "/") n = this.contentById.get(labels[key] as string);
      } else if (key.startsWith(LABEL.refSnapshot)) {
        const snapshotter = key.slice(LABEL.refSnapshot.length).split("/")[0];
        if (snapshotter) n = this.snapshotId(snapshotter, labels[key] as string);
      }
      if (n !== undefined) out.push(n);
    }
    return out;
  }

  /** The node number of a NodeKey, if it is in the graph. */
  id(node: NodeKey): number | undefined {
    if (node.charCodeAt(1) !== 0) return undefined;
    const rest = node.slice(2);
    switch (node.charAt(0)) {
      case "c":
        return this.contentById.get(rest);
      case "i":
        return this.ingestById.get(rest);
      case "m":
        return this.imageById.get(rest);
      case "s": {
        const sep = rest.indexOf("\u0000");
        return sep === -1 ? undefined : this.snapshotId(rest.slice(0, sep), rest.slice(sep + 1));
      }
      default:
        return undefined;
    }
  }

  has(node: NodeKey): boolean {
    return this.id(node) !== undefined;
  }

  children(node: NodeKey): NodeKey[] {
    const n = this.id(node);
    if (n === undefined) return [];
    const labels = this.labels[n];
    const link = this.links[n];
    switch (this.kinds[n]) {
      case "c":
        return labelRefs(labels as Labels);
      case "s": {
        const refs = labelRefs(labels as Labels);
        if (link !== undefined) refs.push(snapshotNode(this.snapshotters[n] as string, link));
        return refs;
      }
      case "m":
        return [contentNode(link as string), ...labelRefs(labels as Labels)];
      default:
        return [];
    }
  }

  flatChildren(node: NodeKey): NodeKey[] {
    const n = this.id(node);
    const link = n === undefined ? undefined : this.flatLinks[n];
    if (n === undefined || link === undefined) return [];
    return [this.kinds[n] === "m" ? contentNode(link) : snapshotNode(this.snapshotters[n] as string, link)];
  }

  bytes(node: NodeKey): number {
    const n = this.id(node);
    return n === undefined ? 0 : (this.sizes[n] as number);
  }

  bytesOf(n: number): number {
    return this.sizes[n] as number;
  }

  /** Children that exist in the graph, by number (a label pointing at something gone is skipped). */
  childIds(n: number): number[] {
    let out = this.resolved[n];
    if (out === undefined) {
      out = [];
      const labels = this.labels[n];
      const link = this.links[n];
      const kind = this.kinds[n];
      if (kind === "m") pushFound(out, this.contentById.get(link as string));
      if (labels !== undefined) this.labelRefIds(labels, out);
      if (kind === "s" && link !== undefined) pushFound(out, this.snapshotId(this.snapshotters[n] as string, link));
      this.resolved[n] = out;
    }
    return out;
  }

  flatChildIds(n: number): number[] {
    let out = this.resolvedFlat[n];
    if (out === undefined) {
      out = [];
      const link = this.flatLinks[n];
      if (link !== undefined) {
        pushFound(out, this.kinds[n] === "m" ? this.contentById.get(link) : this.snapshotId(this.snapshotters[n] as string, link));
      }
      this.resolvedFlat[n] = out;
    }
    return out;
  }
}

function pushFound(out: number[], n: number | undefined): void {
  if (n !== undefined) out.push(n);
}

export function buildGraph(ns: NamespaceInventory): IndexedGraph {
  const graph = new IndexedGraph();
  for (const blob of ns.content) graph.contentIds.push(graph.addContent(blob));
  for (const snap of ns.snapshots) graph.snapshotIds.push(graph.addSnapshot(snap));
  for (const ingest of ns.ingests) graph.addIngest(ingest);
  for (const image of ns.images) graph.addImage(image);
  return graph;
}

/** A root by node number: see Root. */
export interface RootId {
  id: number;
  flat: boolean;
}

/** markLevels by node number: the level of each node, -1 where nothing reaches it. */
export function markLevelIds(graph: IndexedGraph, levels: readonly (readonly RootId[])[]): Int8Array {
  const n = graph.size;
  const level = new Int8Array(n).fill(-1);
  const expanded = new Uint8Array(n); // bit 1: expanded fully, bit 2: expanded flat
  const stack: number[] = []; // pairs: id, flat
  levels.forEach((roots, current) => {
    const visit = (id: number, flat: boolean) => {
      if (level[id] === -1) level[id] = current;
      const e = expanded[id] as number;
      if (e & 1 || (flat && e & 2)) return;
      expanded[id] = e | (flat ? 2 : 1);
      stack.push(id, flat ? 1 : 0);
    };
    for (const root of roots) visit(root.id, root.flat);
    while (stack.length > 0) {
      const flat = stack.pop() === 1;
      const id = stack.pop() as number;
      for (const child of flat ? graph.flatChildIds(id) : graph.childIds(id)) visit(child, flat);
    }
  });
  return level;
}

/**
 * Repeated single-level walks (what `reach` does) without allocating per walk: marks are
 * generation stamps, so each walk costs only what it reaches.
 */
export class Reacher {
  private generation = 0;
  private readonly full: Int32Array;
  private readonly flat: Int32Array;
  private readonly seen: Int32Array;
  private readonly stack: number[] = [];

  constructor(private readonly graph: IndexedGraph) {
    this.full = new Int32Array(graph.size);
    this.flat = new Int32Array(graph.size);
    this.seen = new Int32Array(graph.size);
  }

  /** Calls `each` once for every node the roots reach. */
  reach(roots: readonly RootId[], each: (id: number) => void): void {
    const gen = ++this.generation;
    const { full, flat: flatMark, seen, stack, graph } = this;
    const visit = (id: number, flat: boolean) => {
      if (seen[id] !== gen) {
        seen[id] = gen;
        each(id);
      }
      if (full[id] === gen || (flat && flatMark[id] === gen)) return;
      (flat ? flatMark : full)[id] = gen;
      stack.push(id, flat ? 1 : 0);
    };
    for (const root of roots) visit(root.id, root.flat);
    while (stack.length > 0) {
      const flat = stack.pop() === 1;
      const id = stack.pop() as number;
      for (const child of flat ? graph.flatChildIds(id) : graph.childIds(id)) visit(child, flat);
    }
  }
}

/** A starting point of a walk; a flat one (a gc.flat lease's resource) follows only flatChildren. */
export interface Root {
  node: NodeKey;
  flat: boolean;
}

/**
 * Marks what the roots reach, in priority order: a node keeps the first level
 * that reaches it. A node first reached flat is expanded fully later if a
 * deeper level reaches it through a normal edge, so its children get that
 * level. Each node is expanded at most once each way: linear in nodes plus edges.
 */
export function markLevels(graph: Graph, levels: Root[][]): Map<NodeKey, number> {
  const level = new Map<NodeKey, number>();
  const expanded = new Set<NodeKey>();
  const expandedFlat = new Set<NodeKey>();
  levels.forEach((roots, current) => {
    const stack: Root[] = [];
    const visit = (node: NodeKey, flat: boolean) => {
      if (!graph.has(node)) return; // a label pointing at something that is gone
      if (!level.has(node)) level.set(node, current);
      if (expanded.has(node) || (flat && expandedFlat.has(node))) return;
      (flat ? expandedFlat : expanded).add(node);
      stack.push({ node, flat });
    };
    for (const root of roots) visit(root.node, root.flat);
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const children = next.flat ? graph.flatChildren(next.node) : graph.children(next.node);
      for (const child of children) visit(child, next.flat);
    }
  });
  return level;
}

/** Everything a set of roots reaches. */
export function reach(graph: Graph, roots: Root[]): Set<NodeKey> {
  return new Set(markLevels(graph, [roots]).keys());
}
