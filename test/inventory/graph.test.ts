import { describe, expect, it } from "vitest";
import { buildGraph, type Graph, markLevels, type Root, Walker } from "../../src/inventory/graph.js";
import { blob, digest, image, ingest, namespace, NOW, ref, res, snapshot } from "./builders.js";

const A = digest("a");
const B = digest("b");
const C = digest("c");
const root = (id: number | undefined, flat = false): Root => {
  if (id === undefined) throw new Error("no such node");
  return { id, flat };
};
const reach = (g: Graph, roots: Root[]): Set<number> => {
  const reached = new Set<number>();
  new Walker(g).reset().walk(roots, (n) => reached.add(n));
  return reached;
};

describe("resourceId", () => {
  const g = buildGraph(
    namespace("ns", {
      content: [blob(A, 1)],
      ingests: [ingest("ref-1", { offset: 1, updatedAt: NOW })],
      images: [image("docker.io/library/alpine:3", A)],
      snapshots: [snapshot("overlayfs", "sha256:top"), snapshot("native", "k")],
    }),
  );
  it("maps every lease resource type containerd lists", () => {
    expect(g.resourceId(res.content(A))).toBe(g.contentId(A));
    expect(g.resourceId(res.ingest("ref-1"))).toBe(g.ingestId("ref-1"));
    expect(g.resourceId(res.image("docker.io/library/alpine:3"))).toBe(g.imageId("docker.io/library/alpine:3"));
    expect(g.resourceId(res.snapshot("overlayfs", "sha256:top"))).toBe(g.snapshotId("overlayfs", "sha256:top"));
    expect(g.resourceId(res.snapshot("overlayfs", "k"))).toBeUndefined();
    expect(g.resourceId(res.snapshot("native", "k"))).toBe(g.snapshotId("native", "k"));
    expect(new Set([g.contentId(A), g.ingestId("ref-1"), g.imageId("docker.io/library/alpine:3")]).size).toBe(3);
  });
  it("ignores types it does not know and objects that are gone", () => {
    expect(g.resourceId({ type: "sandboxes", id: "x" })).toBeUndefined();
    expect(g.resourceId({ type: "snapshot/overlayfs", id: "sha256:top" })).toBeUndefined();
    expect(g.resourceId(res.content(B))).toBeUndefined();
  });
});

describe("labelRefIds", () => {
  const g = buildGraph(
    namespace("ns", {
      content: [blob(A, 1), blob(B, 1), blob(C, 1)],
      snapshots: [snapshot("overlayfs", "sha256:top"), snapshot("overlayfs", "k"), snapshot("native", "k")],
    }),
  );
  it("follows gc.ref.content, .content.<x> and .content/<x>", () => {
    const refs = g.labelRefIds({ [ref.content()]: A, [ref.content(".l.0")]: B, [ref.content("/config")]: C });
    expect(new Set(refs)).toEqual(new Set([g.contentId(A), g.contentId(B), g.contentId(C)]));
  });
  it("does not take a key that only starts like one", () => {
    expect(g.labelRefIds({ "containerd.io/gc.ref.contentfoo": A })).toEqual([]);
    expect(g.labelRefIds({ "containerd.io/gc.ref.contents": A })).toEqual([]);
    expect(g.labelRefIds({ "containerd.io/gc.ref.snapshot": "k" })).toEqual([]); // no snapshotter
    expect(g.labelRefIds({ "containerd.io/gc.ref.snapshot.": "k" })).toEqual([]);
    expect(g.labelRefIds({ "containerd.io/gc.root": "x", "other/gc.ref.content": A })).toEqual([]);
  });
  it("follows gc.ref.snapshot.<snapshotter> and .<snapshotter>/<x> into that snapshotter", () => {
    expect(g.labelRefIds({ [ref.snapshot("overlayfs")]: "sha256:top" })).toEqual([g.snapshotId("overlayfs", "sha256:top")]);
    expect(g.labelRefIds({ [ref.snapshot("overlayfs", "/layer")]: "k" })).toEqual([g.snapshotId("overlayfs", "k")]);
    expect(g.labelRefIds({ [ref.snapshot("native")]: "k" })).toEqual([g.snapshotId("native", "k")]);
  });
  it("names nothing for a label pointing at something that is gone", () => {
    expect(g.labelRefIds({ [ref.content()]: digest("gone"), [ref.snapshot("overlayfs")]: "gone" })).toEqual([]);
  });
});

describe("buildGraph", () => {
  const ns = namespace("ns", {
    content: [blob(A, 100, { [ref.content(".l")]: B }), blob(B, 20)],
    snapshots: [
      snapshot("overlayfs", "top", { parent: "base", usage: 300, labels: { [ref.content()]: C } }),
      snapshot("overlayfs", "base", { usage: 200 }),
      snapshot("overlayfs", "unmeasured", { usage: null }),
    ],
    ingests: [ingest("pull-1", { offset: 7, updatedAt: NOW })],
    images: [image("img:1", A, { [ref.snapshot("overlayfs")]: "top" })],
  });
  const g = buildGraph(ns);
  const a = g.contentId(A) as number;
  const top = g.snapshotId("overlayfs", "top") as number;
  const base = g.snapshotId("overlayfs", "base") as number;
  const img = g.imageId("img:1") as number;

  it("has a node per object and sizes them", () => {
    expect(g.size).toBe(7);
    expect(g.contentId(C)).toBeUndefined();
    expect(g.contentIds).toEqual([a, g.contentId(B)]);
    expect(g.bytesOf(a)).toBe(100);
    expect(g.bytesOf(top)).toBe(300);
    expect(g.bytesOf(g.snapshotId("overlayfs", "unmeasured") as number)).toBe(0);
    expect(g.bytesOf(g.ingestId("pull-1") as number)).toBe(7);
    expect(g.bytesOf(img)).toBe(0);
  });

  it("has the GC edges: labels, parent, image target and image labels", () => {
    expect(g.childIds(a)).toEqual([g.contentId(B)]);
    expect(g.childIds(top)).toEqual([base]); // the label to C points at nothing
    expect(new Set(g.childIds(img))).toEqual(new Set([a, top]));
    expect(g.childIds(g.ingestId("pull-1") as number)).toEqual([]);
  });

  it("keeps only the parent and the image target when held flat", () => {
    expect(g.flatChildIds(top)).toEqual([base]);
    expect(g.flatChildIds(img)).toEqual([a]);
    expect(g.flatChildIds(a)).toEqual([]);
  });

  it("reach from an image covers the whole chain and skips missing nodes", () => {
    expect(reach(g, [root(img)])).toEqual(new Set([img, a, g.contentId(B), top, base]));
  });

  it("reach does not follow a flat root's labels", () => {
    expect(reach(g, [root(a, true)])).toEqual(new Set([a]));
    expect(reach(g, [root(a, true), root(a)])).toEqual(new Set([a, g.contentId(B)]));
    expect(reach(g, [root(top, true)])).toEqual(new Set([top, base]));
  });

  it("starts afresh after reset, and not before", () => {
    const walker = new Walker(g).reset();
    const first: number[] = [];
    walker.walk([root(a)], (n) => first.push(n));
    const again: number[] = [];
    walker.walk([root(img)], (n) => again.push(n));
    expect(new Set(again)).toEqual(new Set([img, top, base]));
    const fresh: number[] = [];
    walker.reset().walk([root(a)], (n) => fresh.push(n));
    expect(fresh).toEqual(first);
  });
});

describe("markLevels", () => {
  it("gives a node the first level that reaches it, -1 to the rest", () => {
    const g = buildGraph(namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1), blob(C, 1), blob(digest("d"), 1)] }));
    const levels = markLevels(g, [[], [root(g.contentId(B))], [root(g.contentId(A)), root(g.contentId(C))]]);
    expect(levels[g.contentId(B) as number]).toBe(1);
    expect(levels[g.contentId(A) as number]).toBe(2);
    expect(levels[g.contentId(C) as number]).toBe(2);
    expect(levels[g.contentId(digest("d")) as number]).toBe(-1);
  });

  it("expands a node first reached flat when a later level reaches it normally", () => {
    const g = buildGraph(
      namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1, { [ref.content()]: C }), blob(C, 1)] }),
    );
    const [a, b, c] = [g.contentId(A), g.contentId(B), g.contentId(C)] as number[];
    const levels = markLevels(g, [[root(a, true)], [], [root(a)]]);
    expect([levels[a!], levels[b!], levels[c!]]).toEqual([0, 2, 2]);
    // flat only: nothing beyond A
    expect([...markLevels(g, [[root(a, true)]])]).toEqual([0, -1, -1]);
  });

  it("flat and normal roots of the same level: the normal one expands", () => {
    const g = buildGraph(namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1)] }));
    const a = g.contentId(A);
    for (const roots of [
      [root(a, true), root(a)],
      [root(a), root(a, true)],
    ]) {
      expect(markLevels(g, [roots])[g.contentId(B) as number]).toBe(0);
    }
  });

  it("terminates on cycles (content labels, snapshot parents, content ↔ snapshot)", () => {
    const g = buildGraph(
      namespace("ns", {
        content: [
          blob(A, 1, { [ref.content()]: B }),
          blob(B, 1, { [ref.content()]: A, [ref.snapshot("overlayfs")]: "s1" }),
          blob(C, 1, { [ref.content()]: C }),
        ],
        snapshots: [
          snapshot("overlayfs", "s1", { parent: "s2" }),
          snapshot("overlayfs", "s2", { parent: "s1", labels: { [ref.content()]: A } }),
        ],
      }),
    );
    const levels = markLevels(g, [[root(g.contentId(A)), root(g.contentId(C))]]);
    expect([...levels]).toEqual([0, 0, 0, 0, 0]);
  });
});
