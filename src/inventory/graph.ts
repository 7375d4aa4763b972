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

export function buildGraph(ns: NamespaceInventory): Graph {
  const edges = new Map<NodeKey, () => NodeKey[]>();
  const flatEdges = new Map<NodeKey, NodeKey>();
  const sizes = new Map<NodeKey, number>();
  for (const blob of ns.content) {
    const node = contentNode(blob.digest);
    edges.set(node, () => labelRefs(blob.labels));
    sizes.set(node, blob.size);
  }
  for (const snap of ns.snapshots) {
    const node = snapshotNode(snap.snapshotter, snap.name);
    edges.set(node, () => {
      const refs = labelRefs(snap.labels);
      if (snap.parent) refs.push(snapshotNode(snap.snapshotter, snap.parent));
      return refs;
    });
    sizes.set(node, snap.usage?.size ?? 0);
    if (snap.parent) flatEdges.set(node, snapshotNode(snap.snapshotter, snap.parent));
  }
  for (const ingest of ns.ingests) {
    const node = ingestNode(ingest.ref);
    edges.set(node, () => []);
    sizes.set(node, ingest.offset);
  }
  for (const image of ns.images) {
    edges.set(imageNode(image.name), () => [contentNode(image.target.digest), ...labelRefs(image.labels)]);
    flatEdges.set(imageNode(image.name), contentNode(image.target.digest));
  }
  return {
    has: (node) => edges.has(node),
    children: (node) => edges.get(node)?.() ?? [],
    flatChildren: (node) => {
      const next = flatEdges.get(node);
      return next === undefined ? [] : [next];
    },
    bytes: (node) => sizes.get(node) ?? 0,
  };
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
