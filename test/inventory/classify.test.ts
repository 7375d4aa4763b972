import { describe, expect, it } from "vitest";
import { classify, classifyNamespace, type ClassifiedNamespace } from "../../src/inventory/classify.js";
import { DEFAULT_POLICY, LABEL, type Policy, type ResourceState } from "../../src/inventory/states.js";
import type { LeaseResource } from "../../src/containerd/types.js";
import type { LeaseEntry, NamespaceInventory } from "../../src/inventory/types.js";
import {
  blob,
  container,
  digest,
  HOUR,
  image,
  ingest,
  inventory,
  lease,
  namespace,
  NOW,
  ref,
  res,
  snapshot,
} from "./builders.js";

// ---------------------------------------------------------------------------
// helpers

const FLAT = { [LABEL.flat]: "true" };
type Labels = Record<string, string>;

const permanent = (id: string, resources: LeaseResource[], labels: Labels = {}): LeaseEntry =>
  lease(id, { createdAt: NOW - 100 * HOUR, resources, labels });
const active = (id: string, resources: LeaseResource[], labels: Labels = {}): LeaseEntry =>
  lease(id, { createdAt: NOW - 60, expire: NOW + 24 * HOUR, resources, labels });
const stale = (id: string, resources: LeaseResource[], labels: Labels = {}): LeaseEntry =>
  lease(id, { createdAt: NOW - 2 * HOUR, expire: NOW + 22 * HOUR, resources, labels });
const expired = (id: string, resources: LeaseResource[], labels: Labels = {}): LeaseEntry =>
  lease(id, { createdAt: NOW - 25 * HOUR, expire: NOW - HOUR, resources, labels });

const LEASE_KINDS = { permanent, active, stale, expired } as const;
const STATE_OF_KIND: Record<keyof typeof LEASE_KINDS, ResourceState> = {
  permanent: "pinned",
  active: "leased",
  stale: "stale",
  expired: "stale",
};

function get<T>(items: T[], pick: (item: T) => boolean, what: string): T {
  const found = items.find(pick);
  if (found === undefined) throw new Error(`no ${what}`);
  return found;
}

/** Classifies a namespace and gives short look-ups into the result. */
function run(ns: NamespaceInventory, policy: Policy = DEFAULT_POLICY, now = NOW) {
  const c: ClassifiedNamespace = classifyNamespace(ns, policy, now);
  return {
    c,
    blob: (tag: string) => get(c.content, (b) => b.digest === digest(tag), `blob ${tag}`).state,
    snap: (key: string, snapshotter = "overlayfs") =>
      get(c.snapshots, (s) => s.name === key && s.snapshotter === snapshotter, `snapshot ${snapshotter}/${key}`).state,
    lease: (id: string) => get(c.leases, (l) => l.id === id, `lease ${id}`),
    ingest: (r: string) => get(c.ingests, (i) => i.ref === r, `ingest ${r}`),
    blobStates: () => Object.fromEntries(c.content.map((b) => [b.digest, b.state])),
  };
}

/**
 * A pulled-and-unpacked image the way the unpacker leaves it: index → manifest
 * → config + layers; the config carries gc.ref.snapshot.overlayfs to the top of
 * the chain of snapshots. Sizes are distinct powers of ten to make sums readable.
 */
function pulled(p: string) {
  return {
    content: [
      blob(`${p}-index`, 1, { [ref.content(".m.0")]: digest(`${p}-manifest`) }),
      blob(`${p}-manifest`, 10, {
        [ref.content(".config")]: digest(`${p}-config`),
        [ref.content(".l.0")]: digest(`${p}-layer0`),
        [ref.content(".l.1")]: digest(`${p}-layer1`),
      }),
      blob(`${p}-config`, 100, { [ref.snapshot("overlayfs")]: `${p}-top` }),
      blob(`${p}-layer0`, 1_000),
      blob(`${p}-layer1`, 10_000),
    ],
    snapshots: [
      snapshot("overlayfs", `${p}-base`, { usage: 100_000 }),
      snapshot("overlayfs", `${p}-top`, { parent: `${p}-base`, usage: 1_000_000 }),
    ],
    blobs: [`${p}-index`, `${p}-manifest`, `${p}-config`, `${p}-layer0`, `${p}-layer1`],
    snaps: [`${p}-base`, `${p}-top`],
    bytes: 1_111_111,
  };
}

// ---------------------------------------------------------------------------

describe("lease states as classifyNamespace reports them", () => {
  it("classifies each kind and reports expiresAt and flat", () => {
    const r = run(
      namespace("ns", {
        leases: [
          permanent("p", []),
          active("a", [], FLAT),
          stale("s", []),
          expired("e", []),
          lease("garbage", { createdAt: NOW - 100 * HOUR, expire: "tomorrow" }),
          lease("bad-date", { createdAt: NOW - 100 * HOUR, expire: "2020-02-30T00:00:00Z" }),
        ],
      }),
    );
    expect(r.c.leases.map((l) => [l.id, l.state, l.expiresAt, l.flat])).toEqual([
      ["p", "leaked", null, false],
      ["a", "active", NOW + 24 * HOUR, true],
      ["s", "stale", NOW + 22 * HOUR, false],
      ["e", "expired", NOW - HOUR, false],
      ["garbage", "leaked", null, false],
      ["bad-date", "leaked", null, false],
    ]);
  });

  it("uses the policy it is given", () => {
    const ns = namespace("ns", { leases: [lease("l", { createdAt: NOW - 30 * 60, expire: NOW + HOUR })] });
    expect(run(ns).lease("l").state).toBe("active");
    expect(run(ns, { ...DEFAULT_POLICY, leaseStaleAfterMs: 30 * 60_000 }).lease("l").state).toBe("stale");
    expect(run(ns, { ...DEFAULT_POLICY, leaseStaleAfterMs: 30 * 60_000 + 1 }).lease("l").state).toBe("active");
  });

  it("stale-after edge carries through to the resources", () => {
    const at = (createdAt: number) =>
      run(
        namespace("ns", {
          content: [blob("x", 5)],
          leases: [lease("l", { createdAt, expire: NOW + HOUR, resources: [res.content("x")] })],
        }),
      ).blob("x");
    expect(at(NOW - HOUR)).toBe("stale");
    expect(at(NOW - HOUR + 0.001)).toBe("leased");
  });

  it("a stale-age lease writing an ingest keeps its blobs leased; idle exactly at idle-after makes them stale", () => {
    const at = (updatedAt: number) =>
      run(
        namespace("ns", {
          content: [blob("done", 5)],
          ingests: [ingest("writing", { offset: 3, updatedAt })],
          leases: [stale("l", [res.content("done"), res.ingest("writing")])],
        }),
      );
    const writing = at(NOW - 600 + 0.001);
    expect(writing.lease("l").state).toBe("active");
    expect(writing.blob("done")).toBe("leased");
    expect(writing.ingest("writing").state).toBe("leased");
    const idle = at(NOW - 600);
    expect(idle.lease("l").state).toBe("stale");
    expect(idle.blob("done")).toBe("stale");
    expect(idle.ingest("writing").state).toBe("stale");
  });
});

describe("resource states: one root each", () => {
  it("everything an image reaches is in_use (target, manifest labels, config → snapshot chain)", () => {
    const img = pulled("i");
    const r = run(namespace("ns", { ...img, images: [image("img:1", "i-index")] }));
    for (const b of img.blobs) expect(r.blob(b)).toBe("in_use");
    for (const s of img.snaps) expect(r.snap(s)).toBe("in_use");
  });

  it("image labels are followed too", () => {
    const r = run(
      namespace("ns", {
        content: [blob("target", 1), blob("extra", 2), blob("loose", 3)],
        snapshots: [snapshot("overlayfs", "s", { usage: 9 })],
        images: [image("img:1", "target", { [ref.content("/x")]: digest("extra"), [ref.snapshot("overlayfs")]: "s" })],
      }),
    );
    expect([r.blob("target"), r.blob("extra"), r.snap("s"), r.blob("loose")]).toEqual([
      "in_use",
      "in_use",
      "in_use",
      "unreferenced",
    ]);
  });

  it("a container holds its snapshot (and parents) in its snapshotter, and what its labels reference", () => {
    const r = run(
      namespace("ns", {
        content: [blob("spec", 4), blob("other", 4)],
        snapshots: [
          snapshot("overlayfs", "base", { usage: 1 }),
          snapshot("overlayfs", "rw", { parent: "base", kind: "active", usage: 2 }),
          snapshot("native", "rw", { kind: "active", usage: 3 }),
        ],
        containers: [container("c1", "overlayfs", "rw", { [ref.content()]: digest("spec") })],
      }),
    );
    expect(r.snap("rw")).toBe("in_use");
    expect(r.snap("base")).toBe("in_use");
    expect(r.snap("rw", "native")).toBe("unreferenced");
    expect(r.blob("spec")).toBe("in_use");
    expect(r.blob("other")).toBe("unreferenced");
  });

  it("a container without a snapshot key holds nothing by it", () => {
    const r = run(
      namespace("ns", {
        snapshots: [snapshot("overlayfs", "", { usage: 1 }), snapshot("overlayfs", "x", { usage: 1 })],
        containers: [container("c1", "overlayfs", "")],
      }),
    );
    expect(r.snap("x")).toBe("unreferenced");
  });

  it("gc.root content and snapshots are in_use with what they reference", () => {
    const r = run(
      namespace("ns", {
        content: [blob("root", 1, { [LABEL.root]: "", [ref.content()]: digest("child") }), blob("child", 2)],
        snapshots: [
          snapshot("overlayfs", "p", { usage: 1 }),
          snapshot("overlayfs", "rooted", { parent: "p", usage: 1, labels: { [LABEL.root]: "2025-01-01T00:00:00Z" } }),
        ],
      }),
    );
    expect([r.blob("root"), r.blob("child"), r.snap("rooted"), r.snap("p")]).toEqual([
      "in_use",
      "in_use",
      "in_use",
      "in_use",
    ]);
  });

  it.each(Object.keys(LEASE_KINDS) as (keyof typeof LEASE_KINDS)[])(
    "a %s lease puts everything it reaches in its state",
    (kind) => {
      const img = pulled("i");
      const r = run(namespace("ns", { ...img, leases: [LEASE_KINDS[kind]("l", [res.content("i-index")])] }));
      for (const b of img.blobs) expect(r.blob(b)).toBe(STATE_OF_KIND[kind]);
      for (const s of img.snaps) expect(r.snap(s)).toBe(STATE_OF_KIND[kind]);
    },
  );

  it("nothing reaching it: unreferenced (an unreferenced cycle stays unreferenced)", () => {
    const r = run(
      namespace("ns", {
        content: [blob("a", 1, { [ref.content()]: digest("b") }), blob("b", 1, { [ref.content()]: digest("a") })],
        snapshots: [snapshot("overlayfs", "x", { parent: "y" }), snapshot("overlayfs", "y", { parent: "x" })],
      }),
    );
    expect([r.blob("a"), r.blob("b"), r.snap("x"), r.snap("y")]).toEqual(Array(4).fill("unreferenced"));
  });
});

describe("resource states: first match wins", () => {
  const one = (leases: LeaseEntry[], extra: Partial<NamespaceInventory> = {}) =>
    run(namespace("ns", { content: [blob("x", 1)], leases, ...extra })).blob("x");
  const x = [res.content("x")];

  it("in_use beats every lease", () => {
    expect(one([permanent("p", x), active("a", x)], { images: [image("img", "x")] })).toBe("in_use");
  });
  it("pinned beats leased and stale", () => {
    expect(one([stale("s", x), active("a", x), permanent("p", x)])).toBe("pinned");
  });
  it("leased beats stale and expired", () => {
    expect(one([expired("e", x), stale("s", x), active("a", x)])).toBe("leased");
  });
  it("stale and expired together stay stale", () => {
    expect(one([expired("e", x), stale("s", x)])).toBe("stale");
  });

  it("priority holds along edges: a layer both pinned via its manifest and leased directly is pinned", () => {
    const img = pulled("i");
    const r = run(
      namespace("ns", {
        ...img,
        leases: [active("a", [res.content("i-layer0"), res.snapshot("overlayfs", "i-top")]), permanent("p", [res.content("i-manifest")])],
      }),
    );
    expect(r.blob("i-index")).toBe("unreferenced");
    expect(r.blob("i-manifest")).toBe("pinned");
    expect(r.blob("i-layer0")).toBe("pinned");
    expect(r.snap("i-top")).toBe("pinned");
    expect(r.snap("i-base")).toBe("pinned");
  });

  it("a parent shared with an image is in_use while the leased child is not", () => {
    const r = run(
      namespace("ns", {
        content: [blob("cfg", 1, { [ref.snapshot("overlayfs")]: "base" })],
        snapshots: [snapshot("overlayfs", "base"), snapshot("overlayfs", "extract-1", { parent: "base", kind: "active" })],
        images: [image("img", "cfg")],
        leases: [stale("pull", [res.snapshot("overlayfs", "extract-1")])],
      }),
    );
    expect(r.snap("base")).toBe("in_use");
    expect(r.snap("extract-1")).toBe("stale");
  });
});

describe("GC edges", () => {
  it("label forms: gc.ref.content[.x|/x] and gc.ref.snapshot.<snapshotter>[/x]; not gc.ref.contentfoo", () => {
    const r = run(
      namespace("ns", {
        content: [
          blob("holder", 1, {
            [ref.content()]: digest("plain"),
            [ref.content(".dotted")]: digest("dotted"),
            [ref.content("/slashed")]: digest("slashed"),
            "containerd.io/gc.ref.contentfoo": digest("foo"),
            "containerd.io/gc.ref.content_x": digest("underscore"),
            [ref.snapshot("overlayfs")]: "s-plain",
            [ref.snapshot("overlayfs", "/layer")]: "s-slashed",
            [ref.snapshot("native")]: "only-in-overlayfs",
          }),
          blob("plain", 1),
          blob("dotted", 1),
          blob("slashed", 1),
          blob("foo", 1),
          blob("underscore", 1),
        ],
        snapshots: [
          snapshot("overlayfs", "s-plain"),
          snapshot("overlayfs", "s-slashed"),
          snapshot("overlayfs", "only-in-overlayfs"),
        ],
        leases: [active("l", [res.content("holder")])],
      }),
    );
    expect([r.blob("plain"), r.blob("dotted"), r.blob("slashed")]).toEqual(["leased", "leased", "leased"]);
    expect([r.blob("foo"), r.blob("underscore")]).toEqual(["unreferenced", "unreferenced"]);
    expect([r.snap("s-plain"), r.snap("s-slashed")]).toEqual(["leased", "leased"]);
    expect(r.snap("only-in-overlayfs")).toBe("unreferenced");
  });

  it("snapshot labels reference content and other snapshots", () => {
    const r = run(
      namespace("ns", {
        content: [blob("from-snap", 1)],
        snapshots: [
          snapshot("overlayfs", "s", { labels: { [ref.content(".l")]: digest("from-snap"), [ref.snapshot("native")]: "n" } }),
          snapshot("native", "n"),
        ],
        leases: [permanent("l", [res.snapshot("overlayfs", "s")])],
      }),
    );
    expect(r.blob("from-snap")).toBe("pinned");
    expect(r.snap("n", "native")).toBe("pinned");
  });

  it("a snapshot's parent is looked up in its own snapshotter", () => {
    const r = run(
      namespace("ns", {
        snapshots: [
          snapshot("overlayfs", "base"),
          snapshot("native", "base"),
          snapshot("overlayfs", "child", { parent: "base" }),
        ],
        leases: [active("l", [res.snapshot("overlayfs", "child")])],
      }),
    );
    expect(r.snap("base")).toBe("leased");
    expect(r.snap("base", "native")).toBe("unreferenced");
  });

  it("lease resource types: content, ingests, snapshots/<snapshotter>, images; others ignored", () => {
    const r = run(
      namespace("ns", {
        content: [blob("c", 1), blob("target", 2), blob("weird", 3)],
        snapshots: [snapshot("native", "k"), snapshot("overlayfs", "k")],
        ingests: [ingest("ing", { offset: 4, updatedAt: NOW - 2 * HOUR })],
        images: [image("img:1", "target")],
        leases: [
          permanent("l", [
            res.content("c"),
            res.snapshot("native", "k"),
            res.ingest("ing"),
            res.image("img:1"),
            { type: "sandboxes", id: digest("weird") },
            { type: "snapshots", id: "k" },
          ]),
        ],
      }),
    );
    expect(r.blob("c")).toBe("pinned");
    expect(r.snap("k", "native")).toBe("pinned");
    expect(r.snap("k", "overlayfs")).toBe("unreferenced");
    expect(r.ingest("ing").state).toBe("pinned");
    expect(r.blob("target")).toBe("in_use"); // the image is a root on its own
    expect(r.blob("weird")).toBe("unreferenced");
    // held: c (1) + native/k (0) + ing (4); target is in_use
    expect(r.lease("l").heldBytes).toBe(5);
  });

  it("an images resource on a lease reaches the image's target and labels", () => {
    // (the image is also a root; what matters is that the resource type is understood and does not crash)
    const r = run(
      namespace("ns", {
        content: [blob("t", 10, { [ref.content()]: digest("child") }), blob("child", 20)],
        images: [image("img", "t")],
        leases: [expired("e", [res.image("img"), res.image("missing-image")])],
      }),
    );
    expect([r.blob("t"), r.blob("child")]).toEqual(["in_use", "in_use"]);
    expect(r.lease("e").heldBytes).toBe(0);
  });
});

describe("gc.flat leases", () => {
  const parts = () => ({
    content: [blob("A", 10, { [ref.content()]: digest("B") }), blob("B", 20, { [ref.content()]: digest("C") }), blob("C", 40)],
  });
  const A = [res.content("A")];

  it("hold only the resources they list", () => {
    const r = run(namespace("ns", { ...parts(), leases: [permanent("f", A, FLAT)] }));
    expect([r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["pinned", "unreferenced", "unreferenced"]);
    expect(r.lease("f").flat).toBe(true);
    expect(r.lease("f").heldBytes).toBe(10);
  });

  it("flat permanent + non-flat active on the same blob: A pinned, its children leased", () => {
    const r = run(namespace("ns", { ...parts(), leases: [permanent("f", A, FLAT), active("a", A)] }));
    expect([r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["pinned", "leased", "leased"]);
  });

  it("…with a stale non-flat lease instead: children stale", () => {
    const r = run(namespace("ns", { ...parts(), leases: [stale("s", A), permanent("f", A, FLAT)] }));
    expect([r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["pinned", "stale", "stale"]);
    expect(r.lease("s").heldBytes).toBe(70);
    expect(r.lease("f").heldBytes).toBe(10);
  });

  it("a flat lease of lower priority than the non-flat one changes nothing", () => {
    const r = run(namespace("ns", { ...parts(), leases: [active("f", A, FLAT), permanent("p", A)] }));
    expect([r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["pinned", "pinned", "pinned"]);
  });

  it("a flat-held blob reached through a normal edge of a lower level passes that level on", () => {
    const r = run(
      namespace("ns", {
        ...parts(),
        content: [...parts().content, blob("M", 1, { [ref.content()]: digest("A") })],
        leases: [permanent("f", A, FLAT), stale("s", [res.content("M")])],
      }),
    );
    expect([r.blob("M"), r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["stale", "pinned", "stale", "stale"]);
  });

  // The project's rule as specified. NB: containerd's gc.go (1.6 and 2.x) walks a flat
  // snapshot's parent chain (as flat nodes) and only skips its labels, so containerd would
  // keep "p" here; change this test if the rule is brought in line.
  it("a flat-held snapshot keeps its parent chain but not what labels point at, as containerd's GC does", () => {
    const r = run(
      namespace("ns", {
        snapshots: [
          snapshot("overlayfs", "p", { usage: 5 }),
          snapshot("overlayfs", "c", { parent: "p", usage: 7, labels: { [ref.content()]: digest("X") } }),
        ],
        content: [blob("X", 100)],
        leases: [stale("f", [res.snapshot("overlayfs", "c")], FLAT)],
      }),
    );
    expect([r.snap("c"), r.snap("p"), r.blob("X")]).toEqual(["stale", "stale", "unreferenced"]);
    expect(r.lease("f").heldBytes).toBe(12);
  });

  it("flat does not stop in_use from spreading", () => {
    const r = run(namespace("ns", { ...parts(), images: [image("img", "A")], leases: [permanent("f", A, FLAT)] }));
    expect([r.blob("A"), r.blob("B"), r.blob("C")]).toEqual(["in_use", "in_use", "in_use"]);
    expect(r.lease("f").heldBytes).toBe(0);
  });
});

describe("ingests", () => {
  const idle = NOW - 2 * HOUR;
  const fresh = NOW - 1;
  const state = (updatedAt: number, leases: LeaseEntry[]) =>
    run(namespace("ns", { ingests: [ingest("r", { offset: 5, updatedAt })], leases })).ingest("r");
  const r = [res.ingest("r")];

  it("pinned when a permanent lease holds them, idle or not, whoever else holds them", () => {
    expect(state(idle, [permanent("p", r)]).state).toBe("pinned");
    expect(state(fresh, [active("a", r), permanent("p", r)]).state).toBe("pinned");
    expect(state(idle, [stale("s", r), permanent("p", r)]).state).toBe("pinned");
  });
  it("leased when an active lease holds them, even idle", () => {
    expect(state(idle, [active("a", r)]).state).toBe("leased");
    expect(state(idle, [stale("s", r), active("a", r)]).state).toBe("leased");
  });
  it("leased while written with no lease", () => {
    expect(state(fresh, []).state).toBe("leased");
  });
  it("stale when held only by expired leases, whatever its write time (gc.go skips expired leases; the ingest has no expiry of its own)", () => {
    expect(state(fresh, [expired("e", r)]).state).toBe("stale");
    expect(state(fresh, [expired("e", r), expired("f", r)]).state).toBe("stale");
    expect(state(fresh, [expired("e", r), active("a", r)]).state).toBe("leased");
  });
  it("stale when idle and held by no active lease", () => {
    expect(state(idle, []).state).toBe("stale");
    expect(state(idle, [stale("s", r)]).state).toBe("stale");
    expect(state(idle, [expired("e", r), stale("s", r)]).state).toBe("stale");
  });
  it("idle exactly at idle-after; 1 ms less is not", () => {
    expect(state(NOW - 600, []).state).toBe("stale");
    expect(state(NOW - 599.999, []).state).toBe("leased");
    const policy = { ...DEFAULT_POLICY, ingestIdleAfterMs: 5_000 };
    const ns = namespace("ns", { ingests: [ingest("r", { offset: 1, updatedAt: NOW - 5 })] });
    expect(run(ns, policy).ingest("r").state).toBe("stale");
  });
  it("lists the leases that hold them", () => {
    expect(state(idle, [stale("s", r), permanent("p", []), expired("e", r)]).leases).toEqual(["s", "e"]);
    expect(state(idle, []).leases).toEqual([]);
  });
});

describe("heldBytes", () => {
  it("is reported for an active lease too (a pull in flight holds its downloads)", () => {
    const img = pulled("i");
    const r = run(
      namespace("ns", {
        ...img,
        ingests: [ingest("dl", { offset: 4_000_000, updatedAt: NOW - 1 })],
        leases: [active("a", [res.content("i-index"), res.ingest("dl")])],
      }),
    );
    expect(r.lease("a").heldBytes).toBe(img.bytes + 4_000_000);
  });

  it("sums content size, snapshot usage and ingest offsets of everything reached, except in_use", () => {
    const img = pulled("i");
    const ns = namespace("ns", {
      ...img,
      ingests: [ingest("i-layer2", { offset: 7_000_000, updatedAt: NOW - 2 * HOUR })],
      leases: [stale("pull", [res.content("i-index"), res.ingest("i-layer2"), res.ingest("not-there")])],
    });
    expect(run(ns).lease("pull").heldBytes).toBe(img.bytes + 7_000_000);
    // a gc.root blob referencing layer1 (10 000) takes it out of the lease's figure
    ns.content.push(blob("rooted", 3, { [LABEL.root]: "", [ref.content()]: digest("i-layer1") }));
    expect(run(ns).lease("pull").heldBytes).toBe(img.bytes + 7_000_000 - 10_000);
  });

  it("counts bytes pinned or leased by other leases (only in_use is excluded), each lease on its own", () => {
    const r = run(
      namespace("ns", {
        content: [blob("x", 100), blob("y", 10)],
        leases: [permanent("p", [res.content("x")]), expired("e", [res.content("x"), res.content("y")]), active("a", [res.content("y")])],
      }),
    );
    expect(r.blob("x")).toBe("pinned");
    expect(r.blob("y")).toBe("leased");
    expect(r.lease("p").heldBytes).toBe(100);
    expect(r.lease("e").heldBytes).toBe(110);
    expect(r.lease("a").heldBytes).toBe(10);
  });

  it("counts an object once even if listed twice or reached twice", () => {
    const r = run(
      namespace("ns", {
        content: [blob("m", 1, { [ref.content()]: digest("l") }), blob("l", 10)],
        leases: [stale("s", [res.content("m"), res.content("l"), res.content("m")])],
      }),
    );
    expect(r.lease("s").heldBytes).toBe(11);
  });
});

describe("robustness", () => {
  it("labels, parents and resources pointing at missing objects are ignored", () => {
    const r = run(
      namespace("ns", {
        content: [
          blob("a", 5, {
            [ref.content()]: digest("gone"),
            [ref.snapshot("overlayfs")]: "gone",
            [ref.snapshot("zfs")]: "k",
          }),
        ],
        snapshots: [snapshot("overlayfs", "orphan-child", { parent: "gone-parent", usage: 3 })],
        images: [image("dangling", "missing-target")],
        containers: [container("c", "overlayfs", "missing-rw", { [ref.content()]: digest("gone2") })],
        leases: [
          stale("s", [
            res.content("a"),
            res.content("gone3"),
            res.snapshot("overlayfs", "orphan-child"),
            res.snapshot("btrfs", "x"),
            res.ingest("gone4"),
            res.image("gone5"),
          ]),
        ],
      }),
    );
    expect(r.blob("a")).toBe("stale");
    expect(r.snap("orphan-child")).toBe("stale");
    expect(r.lease("s").heldBytes).toBe(8);
    expect(r.c.content).toHaveLength(1);
    expect(r.c.snapshots).toHaveLength(1);
    expect(r.c.ingests).toHaveLength(0);
  });

  it("cycles terminate: content refs each other, self refs, snapshot parent loops, content ↔ snapshot", () => {
    const r = run(
      namespace("ns", {
        content: [
          blob("a", 1, { [ref.content()]: digest("b") }),
          blob("b", 2, { [ref.content()]: digest("a"), [ref.snapshot("overlayfs")]: "s1" }),
          blob("self", 4, { [ref.content()]: digest("self") }),
        ],
        snapshots: [
          snapshot("overlayfs", "s1", { parent: "s2", usage: 8, labels: { [ref.content()]: digest("a") } }),
          snapshot("overlayfs", "s2", { parent: "s1", usage: 16 }),
          snapshot("overlayfs", "loop", { parent: "loop", usage: 32 }),
        ],
        leases: [stale("s", [res.content("a"), res.content("self"), res.snapshot("overlayfs", "loop")]), permanent("p", [res.snapshot("overlayfs", "s2")])],
      }),
    );
    expect([r.blob("a"), r.blob("b"), r.blob("self")]).toEqual(["pinned", "pinned", "stale"]);
    expect([r.snap("s1"), r.snap("s2"), r.snap("loop")]).toEqual(["pinned", "pinned", "stale"]);
    expect(r.lease("s").heldBytes).toBe(1 + 2 + 4 + 8 + 16 + 32);
    expect(r.lease("p").heldBytes).toBe(1 + 2 + 8 + 16);
  });

  it("a snapshot with usage null counts 0 bytes everywhere but is still classified", () => {
    const inv = inventory([
      namespace("ns", {
        snapshots: [snapshot("overlayfs", "unmeasured", { usage: null }), snapshot("overlayfs", "measured", { usage: 9 })],
        leases: [stale("s", [res.snapshot("overlayfs", "unmeasured"), res.snapshot("overlayfs", "measured")])],
      }),
    ]);
    const out = classify(inv, DEFAULT_POLICY, NOW);
    const ns = out.namespaces[0]!;
    expect(ns.snapshots.map((s) => s.state)).toEqual(["stale", "stale"]);
    expect(ns.leases[0]!.heldBytes).toBe(9);
    expect(out.store.snapshot).toBe(9);
    expect(out.reclaimable.snapshot).toBe(9);
  });

  it("does not mutate its input", () => {
    const ns = namespace("ns", { content: [blob("a", 1)], leases: [stale("s", [res.content("a")])] });
    const before = JSON.stringify(ns);
    classifyNamespace(ns, DEFAULT_POLICY, NOW);
    expect(JSON.stringify(ns)).toBe(before);
  });
});

describe("Docker's container RW-layer lease (64-hex id, no labels)", () => {
  const id = "4f3c2b1a".repeat(8);
  const parts = () => {
    const img = pulled("i");
    return {
      content: img.content,
      snapshots: [
        ...img.snapshots,
        snapshot("overlayfs", `${id}-init`, { parent: "i-top", usage: 300 }),
        snapshot("overlayfs", id, { parent: `${id}-init`, kind: "active" as const, usage: 40_000 }),
      ],
      images: [image("docker.io/library/app:1", "i-index")],
      leases: [lease(id, { createdAt: NOW - 30 * 24 * HOUR, resources: [res.snapshot("overlayfs", id), res.snapshot("overlayfs", `${id}-init`)] })],
    };
  };

  it("is owned (a Docker container's layer) and pins both snapshots; the image below stays in_use", () => {
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const r = run(namespace("moby", parts()));
    expect(r.lease(id).state).toBe("owned");
    expect(r.lease(id).owner).toBe("docker-container");
    expect(r.lease(id).expiresAt).toBeNull();
    expect([r.snap(id), r.snap(`${id}-init`)]).toEqual(["pinned", "pinned"]);
    expect([r.snap("i-top"), r.snap("i-base")]).toEqual(["in_use", "in_use"]);
    expect(r.lease(id).heldBytes).toBe(40_300);
    const out = classify(inventory([namespace("moby", parts())]), DEFAULT_POLICY, NOW);
    expect(out.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });
  });

  it("is in_use when a containerd container also uses the snapshot", () => {
    const r = run(namespace("moby", { ...parts(), containers: [container(id, "overlayfs", id)] }));
    expect([r.snap(id), r.snap(`${id}-init`)]).toEqual(["in_use", "in_use"]);
    expect(r.lease(id).heldBytes).toBe(0);
  });
});

describe("classify: node totals", () => {
  it("echoes inventory, policy and now, and classifies each namespace in order", () => {
    const inv = inventory([namespace("a"), namespace("b")]);
    const policy: Policy = { leaseStaleAfterMs: 1, ingestIdleAfterMs: 2 };
    const out = classify(inv, policy, NOW + 5);
    expect(out.inventory).toBe(inv);
    expect(out.policy).toBe(policy);
    expect(out.now).toBe(NOW + 5);
    expect(out.namespaces.map((n) => [n.name, n.complete])).toEqual([
      ["a", true],
      ["b", true],
    ]);
    expect(out.store).toEqual({ content: 0, snapshot: 0, ingest: 0 });
    expect(out.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });
  });

  it("store: each digest once across namespaces, snapshot usage and ingest offsets summed", () => {
    const out = classify(
      inventory([
        namespace("one", {
          content: [blob("shared", 100), blob("only1", 50)],
          snapshots: [snapshot("overlayfs", "k", { usage: 10 }), snapshot("overlayfs", "n", { usage: null })],
          ingests: [ingest("r", { offset: 3, updatedAt: NOW })],
        }),
        namespace("two", {
          content: [blob("shared", 100), blob("only2", 30)],
          snapshots: [snapshot("overlayfs", "k", { usage: 20 })], // same key, other namespace: another snapshot
          ingests: [ingest("r", { offset: 4, updatedAt: NOW })],
        }),
      ]),
      DEFAULT_POLICY,
      NOW,
    );
    expect(out.store).toEqual({ content: 180, snapshot: 30, ingest: 7 });
  });

  it("reclaimable content: only digests stale/unreferenced in every namespace listing them, once", () => {
    const out = classify(
      inventory([
        namespace("one", {
          content: [blob("both-stale", 100), blob("used-here", 50), blob("pinned", 7), blob("leased", 9)],
          leases: [stale("s", [res.content("both-stale"), res.content("used-here")]), permanent("p", [res.content("pinned")]), active("a", [res.content("leased")])],
        }),
        namespace("two", {
          content: [blob("both-stale", 100), blob("used-here", 50), blob("only-two", 30)],
          images: [image("img", "used-here")],
        }),
      ]),
      DEFAULT_POLICY,
      NOW,
    );
    const states = (i: number) => Object.fromEntries(out.namespaces[i]!.content.map((b) => [b.digest, b.state]));
    expect(states(0)[digest("used-here")]).toBe("stale");
    expect(states(1)[digest("used-here")]).toBe("in_use");
    expect(states(1)[digest("both-stale")]).toBe("unreferenced");
    expect(out.reclaimable.content).toBe(100 + 30);
    expect(out.store.content).toBe(100 + 50 + 7 + 9 + 30);
  });

  it("reclaimable snapshots: usage of stale and unreferenced ones only", () => {
    const out = classify(
      inventory([
        namespace("ns", {
          content: [blob("cfg", 1, { [ref.snapshot("overlayfs")]: "used" })],
          images: [image("img", "cfg")],
          snapshots: [
            snapshot("overlayfs", "stale", { usage: 1 }),
            snapshot("overlayfs", "unref", { usage: 2 }),
            snapshot("overlayfs", "pinned", { usage: 4 }),
            snapshot("overlayfs", "leased", { usage: 8 }),
            snapshot("overlayfs", "used", { usage: 16 }),
            snapshot("overlayfs", "expired", { usage: 32 }),
          ],
          leases: [
            stale("s", [res.snapshot("overlayfs", "stale")]),
            permanent("p", [res.snapshot("overlayfs", "pinned")]),
            active("a", [res.snapshot("overlayfs", "leased")]),
            expired("e", [res.snapshot("overlayfs", "expired")]),
          ],
        }),
      ]),
      DEFAULT_POLICY,
      NOW,
    );
    expect(out.reclaimable.snapshot).toBe(1 + 2 + 32);
    expect(out.store.snapshot).toBe(63);
    expect(out.reclaimable.content).toBe(0);
  });

  it("reclaimable ingests: offsets of stale ones only", () => {
    const old = NOW - 2 * HOUR;
    const out = classify(
      inventory([
        namespace("ns", {
          ingests: [
            ingest("idle-free", { offset: 1, updatedAt: old }),
            ingest("idle-stale", { offset: 2, updatedAt: old }),
            ingest("idle-pinned", { offset: 4, updatedAt: old }),
            ingest("idle-active", { offset: 8, updatedAt: old }),
            ingest("writing", { offset: 16, updatedAt: NOW }),
          ],
          leases: [
            stale("s", [res.ingest("idle-stale")]),
            permanent("p", [res.ingest("idle-pinned")]),
            active("a", [res.ingest("idle-active")]),
          ],
        }),
      ]),
      DEFAULT_POLICY,
      NOW,
    );
    expect(out.namespaces[0]!.ingests.map((i) => i.state)).toEqual(["stale", "stale", "pinned", "leased", "leased"]);
    expect(out.reclaimable.ingest).toBe(3);
    expect(out.store.ingest).toBe(31);
  });

  it("an incomplete namespace never contributes reclaimable bytes and blocks shared digests", () => {
    const junk = (name: string, failed: NamespaceInventory["failed"]) =>
      namespace(name, {
        content: [blob("shared", 100), blob(`own-${name}`, 10)],
        snapshots: [snapshot("overlayfs", "s", { usage: 1_000 })],
        ingests: [ingest("r", { offset: 10_000, updatedAt: NOW - 2 * HOUR })],
        failed,
      });
    const out = classify(inventory([junk("ok", []), junk("broken", ["images"])]), DEFAULT_POLICY, NOW);
    const [ok, broken] = out.namespaces;
    expect(ok!.complete).toBe(true);
    expect(broken!.complete).toBe(false);
    expect(broken!.failed).toEqual(["images"]);
    // classified all the same
    expect(broken!.content.map((b) => b.state)).toEqual(["unreferenced", "unreferenced"]);
    expect(broken!.ingests[0]!.state).toBe("stale");
    expect(out.store).toEqual({ content: 120, snapshot: 2_000, ingest: 20_000 });
    expect(out.reclaimable).toEqual({ content: 10, snapshot: 1_000, ingest: 10_000 });
  });

  it("a node with only incomplete namespaces reclaims nothing", () => {
    const ns = namespace("x", {
      content: [blob("a", 5)],
      snapshots: [snapshot("overlayfs", "s", { usage: 6 })],
      ingests: [ingest("r", { offset: 7, updatedAt: NOW - 2 * HOUR })],
      failed: ["leases"],
    });
    const out = classify(inventory([ns]), DEFAULT_POLICY, NOW);
    expect(out.store).toEqual({ content: 5, snapshot: 6, ingest: 7 });
    expect(out.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });
  });
});
