import { describe, expect, it } from "vitest";
import {
  buildGraph,
  contentNode,
  imageNode,
  ingestNode,
  labelRefs,
  markLevels,
  reach,
  resourceNode,
  type Root,
  snapshotNode,
} from "../../src/inventory/graph.js";
import { blob, digest, image, ingest, namespace, NOW, ref, res, snapshot } from "./builders.js";

const A = digest("a");
const B = digest("b");
const C = digest("c");
const root = (node: string, flat = false): Root => ({ node, flat });

describe("resourceNode", () => {
  it("maps every lease resource type containerd lists", () => {
    expect(resourceNode(res.content(A))).toBe(contentNode(A));
    expect(resourceNode(res.ingest("ref-1"))).toBe(ingestNode("ref-1"));
    expect(resourceNode(res.image("docker.io/library/alpine:3"))).toBe(imageNode("docker.io/library/alpine:3"));
    expect(resourceNode(res.snapshot("overlayfs", "sha256:top"))).toBe(snapshotNode("overlayfs", "sha256:top"));
    expect(resourceNode(res.snapshot("native", "k"))).not.toBe(snapshotNode("overlayfs", "k"));
  });
  it("ignores types it does not know", () => {
    expect(resourceNode({ type: "sandboxes", id: "x" })).toBeUndefined();
    expect(resourceNode({ type: "snapshot/overlayfs", id: "x" })).toBeUndefined();
  });
});

describe("labelRefs", () => {
  it("follows gc.ref.content, .content.<x> and .content/<x>", () => {
    const refs = labelRefs({
      [ref.content()]: A,
      [ref.content(".l.0")]: B,
      [ref.content("/config")]: C,
    });
    expect(new Set(refs)).toEqual(new Set([contentNode(A), contentNode(B), contentNode(C)]));
  });
  it("does not take a key that only starts like one", () => {
    expect(labelRefs({ "containerd.io/gc.ref.contentfoo": A })).toEqual([]);
    expect(labelRefs({ "containerd.io/gc.ref.contents": A })).toEqual([]);
    expect(labelRefs({ "containerd.io/gc.ref.snapshot": "k" })).toEqual([]); // no snapshotter
    expect(labelRefs({ "containerd.io/gc.ref.snapshot.": "k" })).toEqual([]);
    expect(labelRefs({ "containerd.io/gc.root": "x", "other/gc.ref.content": A })).toEqual([]);
  });
  it("follows gc.ref.snapshot.<snapshotter> and .<snapshotter>/<x> into that snapshotter", () => {
    expect(labelRefs({ [ref.snapshot("overlayfs")]: "sha256:top" })).toEqual([snapshotNode("overlayfs", "sha256:top")]);
    expect(labelRefs({ [ref.snapshot("overlayfs", "/layer")]: "k" })).toEqual([snapshotNode("overlayfs", "k")]);
    expect(labelRefs({ [ref.snapshot("native")]: "k" })).toEqual([snapshotNode("native", "k")]);
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

  it("has a node per object and sizes them", () => {
    expect(g.has(contentNode(A))).toBe(true);
    expect(g.has(contentNode(C))).toBe(false);
    expect(g.bytes(contentNode(A))).toBe(100);
    expect(g.bytes(snapshotNode("overlayfs", "top"))).toBe(300);
    expect(g.bytes(snapshotNode("overlayfs", "unmeasured"))).toBe(0);
    expect(g.bytes(ingestNode("pull-1"))).toBe(7);
    expect(g.bytes(imageNode("img:1"))).toBe(0);
    expect(g.bytes(contentNode(C))).toBe(0);
  });

  it("has the GC edges: labels, parent, image target and image labels", () => {
    expect(g.children(contentNode(A))).toEqual([contentNode(B)]);
    expect(new Set(g.children(snapshotNode("overlayfs", "top")))).toEqual(
      new Set([contentNode(C), snapshotNode("overlayfs", "base")]),
    );
    expect(new Set(g.children(imageNode("img:1")))).toEqual(
      new Set([contentNode(A), snapshotNode("overlayfs", "top")]),
    );
    expect(g.children(ingestNode("pull-1"))).toEqual([]);
    expect(g.children(contentNode(C))).toEqual([]);
  });

  it("reach from an image covers the whole chain and skips missing nodes", () => {
    expect(reach(g, [root(imageNode("img:1"))])).toEqual(
      new Set([
        imageNode("img:1"),
        contentNode(A),
        contentNode(B),
        snapshotNode("overlayfs", "top"),
        snapshotNode("overlayfs", "base"),
      ]),
    );
  });

  it("reach does not follow a flat root", () => {
    expect(reach(g, [root(contentNode(A), true)])).toEqual(new Set([contentNode(A)]));
    expect(reach(g, [root(contentNode(A), true), root(contentNode(A))])).toEqual(
      new Set([contentNode(A), contentNode(B)]),
    );
  });
});

describe("markLevels", () => {
  it("gives a node the first level that reaches it", () => {
    const g = buildGraph(namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1), blob(C, 1)] }));
    const levels = markLevels(g, [[], [root(contentNode(B))], [root(contentNode(A)), root(contentNode(C))]]);
    expect(levels.get(contentNode(B))).toBe(1);
    expect(levels.get(contentNode(A))).toBe(2);
    expect(levels.get(contentNode(C))).toBe(2);
  });

  it("expands a node first reached flat when a later level reaches it normally", () => {
    const g = buildGraph(
      namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1, { [ref.content()]: C }), blob(C, 1)] }),
    );
    const levels = markLevels(g, [[root(contentNode(A), true)], [], [root(contentNode(A))]]);
    expect(levels.get(contentNode(A))).toBe(0);
    expect(levels.get(contentNode(B))).toBe(2);
    expect(levels.get(contentNode(C))).toBe(2);
    // flat only: nothing beyond A
    expect(markLevels(g, [[root(contentNode(A), true)]]).size).toBe(1);
  });

  it("flat and normal roots of the same level: the normal one expands", () => {
    const g = buildGraph(namespace("ns", { content: [blob(A, 1, { [ref.content()]: B }), blob(B, 1)] }));
    for (const roots of [
      [root(contentNode(A), true), root(contentNode(A))],
      [root(contentNode(A)), root(contentNode(A), true)],
    ]) {
      expect(markLevels(g, [roots]).get(contentNode(B))).toBe(0);
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
    const levels = markLevels(g, [[root(contentNode(A)), root(contentNode(C))]]);
    expect([...levels.keys()].sort()).toEqual(
      [contentNode(A), contentNode(B), contentNode(C), snapshotNode("overlayfs", "s1"), snapshotNode("overlayfs", "s2")].sort(),
    );
  });

  it("ignores roots that are not in the graph", () => {
    const g = buildGraph(namespace("ns", { content: [blob(A, 1)] }));
    const levels = markLevels(g, [[root(contentNode(B)), root(imageNode("gone")), root(contentNode(A))]]);
    expect([...levels.keys()]).toEqual([contentNode(A)]);
  });
});
