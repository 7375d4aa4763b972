import type { Labels, LeaseResource } from "../containerd/types.js";
import { expectedDigest } from "./ingest-expected.js";
import { LABEL } from "./states.js";
import type { NamespaceInventory } from "./types.js";

type Kind = "content" | "snapshot" | "ingest" | "image";

/**
 * containerd's garbage-collection graph of one namespace, with every node
 * numbered. Nodes are the content blobs, snapshots, ingests and images;
 * edges are the ones metadata/gc.go follows: gc.ref labels, a snapshot's
 * parent, an image's target, an ingest's expected digest (`references` sends
 * it on 1.6 to 2.x, so a leased download keeps the blob it is writing), and on
 * 2.x gc.ref.image labels. Each node's children are resolved to numbers
 * once, on first use, so walks touch only plain arrays. An object listed
 * twice under the same identifier is one node (the last listing wins).
 */
export class Graph {
  /** Node number of each of the namespace's blobs and snapshots, in inventory order. */
  readonly contentIds: number[] = [];
  readonly snapshotIds: number[] = [];
  private readonly contentById = new Map<string, number>();
  private readonly snapshotById = new Map<string, Map<string, number>>();
  private readonly ingestById = new Map<string, number>();
  private readonly imageById = new Map<string, number>();
  private count = 0;
  /** Whether gc.ref.image labels are edges (containerd 2.x). */
  private readonly imageRefLabels: boolean;
  private readonly kinds: Kind[] = [];
  private readonly sizes: number[] = [];
  private readonly labels: (Labels | undefined)[] = [];
  /** A snapshot's snapshotter. */
  private readonly snapshotters: (string | undefined)[] = [];
  /** The edge that survives gc.flat: a snapshot's parent name, an image's target digest, an ingest's expected digest. */
  private readonly links: (string | undefined)[] = [];
  private readonly resolved: (number[] | undefined)[] = [];
  private readonly resolvedFlat: (number[] | undefined)[] = [];

  constructor(options: { imageRefLabels?: boolean } = {}) {
    this.imageRefLabels = options.imageRefLabels ?? true;
  }

  get size(): number {
    return this.count;
  }

  addContent(blob: { digest: string; size: number; labels: Labels }): number {
    return this.set(this.node(this.contentById, blob.digest), "content", blob.size, blob.labels);
  }

  addSnapshot(snap: { snapshotter: string; name: string; parent: string; labels: Labels; usage: { size: number } | null }): number {
    let names = this.snapshotById.get(snap.snapshotter);
    if (!names) this.snapshotById.set(snap.snapshotter, (names = new Map()));
    const n = this.set(this.node(names, snap.name), "snapshot", snap.usage?.size ?? 0, snap.labels, snap.parent || undefined);
    this.snapshotters[n] = snap.snapshotter;
    return n;
  }

  addIngest(ingest: { ref: string; offset: number; expected: string }): number {
    return this.set(this.node(this.ingestById, ingest.ref), "ingest", ingest.offset, undefined, expectedDigest(ingest) || undefined);
  }

  addImage(image: { name: string; target: { digest: string }; labels: Labels }): number {
    return this.set(this.node(this.imageById, image.name), "image", 0, image.labels, image.target.digest);
  }

  contentId(digest: string): number | undefined {
    return this.contentById.get(digest);
  }

  snapshotId(snapshotter: string, name: string): number | undefined {
    return this.snapshotById.get(snapshotter)?.get(name);
  }

  ingestId(ref: string): number | undefined {
    return this.ingestById.get(ref);
  }

  isImage(n: number): boolean {
    return this.kinds[n] === "image";
  }

  isIngest(n: number): boolean {
    return this.kinds[n] === "ingest";
  }

  imageId(name: string): number | undefined {
    return this.imageById.get(name);
  }

  /** The node a lease resource names, if it is in the graph (unknown resource types name none). */
  resourceId(resource: LeaseResource): number | undefined {
    const { type, id } = resource;
    if (type === "content") return this.contentById.get(id);
    if (type === "ingests") return this.ingestById.get(id);
    if (type === "images") return this.imageById.get(id);
    if (type.startsWith("snapshots/")) return this.snapshotId(type.slice("snapshots/".length), id);
    return undefined;
  }

  /**
   * The nodes gc.ref labels point at, appended to `out`: gc.ref.content,
   * gc.ref.content.<x>, gc.ref.content/<x>, gc.ref.snapshot.<snapshotter>[/<x>],
   * and gc.ref.image[.<x>|/<x>] when the daemon follows it.
   * A label pointing at something that is gone names nothing.
   */
  labelRefIds(labels: Labels, out: number[] = []): number[] {
    for (const [key, value] of Object.entries(labels)) {
      let n: number | undefined;
      if (key.startsWith(LABEL.refContent)) {
        const next = key.charAt(LABEL.refContent.length);
        if (next === "" || next === "." || next === "/") n = this.contentById.get(value);
      } else if (this.imageRefLabels && key.startsWith(LABEL.refImage)) {
        const next = key.charAt(LABEL.refImage.length);
        if (next === "" || next === "." || next === "/") n = this.imageById.get(value);
      } else if (key.startsWith(LABEL.refSnapshot)) {
        const snapshotter = key.slice(LABEL.refSnapshot.length).split("/")[0];
        if (snapshotter) n = this.snapshotId(snapshotter, value);
      }
      if (n !== undefined) out.push(n);
    }
    return out;
  }

  /** Bytes on disk of the node itself: content size, snapshot usage, ingest offset; 0 for images. */
  bytesOf(n: number): number {
    return this.sizes[n] as number;
  }

  /** Everything the node references. */
  childIds(n: number): number[] {
    let out = this.resolved[n];
    if (out === undefined) {
      out = this.labels[n] === undefined ? [] : this.labelRefIds(this.labels[n]);
      pushFound(out, this.linkId(n));
      this.resolved[n] = out;
    }
    return out;
  }

  /**
   * What the node keeps when a gc.flat lease holds it: a snapshot's parent (a
   * snapshot cannot outlive its parent, so containerd keeps the whole chain)
   * and an image's target, but nothing its labels point at.
   */
  flatChildIds(n: number): number[] {
    let out = this.resolvedFlat[n];
    if (out === undefined) {
      out = [];
      pushFound(out, this.linkId(n));
      this.resolvedFlat[n] = out;
    }
    return out;
  }

  private linkId(n: number): number | undefined {
    const link = this.links[n];
    if (link === undefined) return undefined;
    const kind = this.kinds[n];
    if (kind === "image" || kind === "ingest") return this.contentById.get(link);
    return this.snapshotId(this.snapshotters[n] as string, link);
  }

  private node(ids: Map<string, number>, id: string): number {
    let n = ids.get(id);
    if (n === undefined) {
      n = this.count++;
      ids.set(id, n);
    }
    return n;
  }

  private set(n: number, kind: Kind, bytes: number, labels: Labels | undefined, link?: string): number {
    this.kinds[n] = kind;
    this.sizes[n] = bytes;
    this.labels[n] = labels;
    this.links[n] = link;
    return n;
  }
}

function pushFound(out: number[], n: number | undefined): void {
  if (n !== undefined) out.push(n);
}

export function buildGraph(ns: NamespaceInventory, options: { imageRefLabels?: boolean } = {}): Graph {
  const graph = new Graph(options);
  for (const blob of ns.content) graph.contentIds.push(graph.addContent(blob));
  for (const snap of ns.snapshots) graph.snapshotIds.push(graph.addSnapshot(snap));
  for (const ingest of ns.ingests) graph.addIngest(ingest);
  for (const image of ns.images) graph.addImage(image);
  return graph;
}

/** A starting point of a walk; a flat one (a gc.flat lease's resource) follows only flatChildIds. */
export interface Root {
  id: number;
  flat: boolean;
}

/**
 * Depth-first walks over a graph that allocate nothing per walk: marks are
 * generation stamps. Within one generation a node is reported once, and
 * followed at most once fully and once flat, so a generation costs no more
 * than its nodes plus edges however many walks it spans.
 */
export class Walker {
  private generation = 0;
  private readonly seen: Int32Array;
  private readonly full: Int32Array;
  private readonly flat: Int32Array;
  private readonly stack: number[] = [];

  constructor(private readonly graph: Graph) {
    this.seen = new Int32Array(graph.size);
    this.full = new Int32Array(graph.size);
    this.flat = new Int32Array(graph.size);
  }

  /** Forgets every earlier walk. */
  reset(): this {
    this.generation++;
    return this;
  }

  /**
   * Calls `visit` for each node the roots reach that this generation has not
   * reported yet. A node reached flat before is followed fully when a normal
   * edge reaches it, so what it references is reported then.
   */
  walk(roots: readonly Root[], visit: (n: number) => void): void {
    const { generation: gen, seen, full, flat: flatMark, stack, graph } = this;
    const reach = (n: number, flat: boolean) => {
      if (seen[n] !== gen) {
        seen[n] = gen;
        visit(n);
      }
      if (full[n] === gen || (flat && flatMark[n] === gen)) return;
      (flat ? flatMark : full)[n] = gen;
      stack.push(n, flat ? 1 : 0);
    };
    for (const root of roots) reach(root.id, root.flat);
    while (stack.length > 0) {
      const flat = stack.pop() === 1;
      const n = stack.pop() as number;
      for (const child of flat ? graph.flatChildIds(n) : graph.childIds(n)) reach(child, flat);
    }
  }
}

/**
 * Marks what the roots reach, in priority order: a node keeps the first level
 * that reaches it (-1 where nothing does). One generation spans all levels, so
 * a node expanded at a higher-priority level is not walked again.
 */
export function markLevels(graph: Graph, levels: readonly (readonly Root[])[]): Int8Array {
  const level = new Int8Array(graph.size).fill(-1);
  const walker = new Walker(graph).reset();
  levels.forEach((roots, current) => {
    walker.walk(roots, (n) => {
      level[n] = current;
    });
  });
  return level;
}
