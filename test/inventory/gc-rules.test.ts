import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import { gcRulesFor, majorVersion } from "../../src/inventory/gc-rules.js";
import { DEFAULT_POLICY, LABEL } from "../../src/inventory/states.js";
import type { NamespaceInventory } from "../../src/inventory/types.js";
import { predictedBy } from "../../src/prune/plan.js";
import { blob, digest, HOUR, image, ingest, inventory, lease, namespace, NOW, rfc3339, res, snapshot } from "./builders.js";

const stale = (id: string, resources = [res.content("x")]) =>
  lease(id, { createdAt: NOW - 2 * HOUR, expire: NOW + 20 * HOUR, resources });
const expiredLease = (id: string, resources = [res.content("x")]) =>
  lease(id, { createdAt: NOW - 30 * HOUR, expire: NOW - HOUR, resources });

function classifyOn(version: string, namespaces: NamespaceInventory[]) {
  const inv = inventory(namespaces);
  inv.containerd = { version, revision: "test" };
  return classify(inv, DEFAULT_POLICY, NOW);
}

describe("containerd versions", () => {
  it("reads the major version of the strings daemons and packages report", () => {
    expect(majorVersion("v1.6.20")).toBe(1);
    expect(majorVersion("1.7.24~ds1")).toBe(1);
    expect(majorVersion("2.1.9+ds1")).toBe(2);
    expect(majorVersion("")).toBeUndefined();
    expect(gcRulesFor("v2.1.9").expiringImages).toBe(true);
    expect(gcRulesFor("v1.7.24")).toEqual({ expiringImages: false, imageRefLabels: false, sandboxLabelRoots: false });
    // unknown: every rule that keeps more applies
    expect(gcRulesFor(null)).toEqual({ expiringImages: false, imageRefLabels: true, sandboxLabelRoots: true });
  });
});

describe("an image whose gc.expire has passed (2.x: not a root)", () => {
  const parts = () =>
    namespace("ns", {
      content: [blob("x", 1000)],
      images: [image("tmp", "x", { [LABEL.expire]: rfc3339(NOW - 60) })],
    });

  it("on 1.x its target stays in_use; on 2.x nothing holds it: unreferenced and reclaimable", () => {
    expect(classifyOn("v1.7.24", [parts()]).namespaces[0]!.content[0]!.state).toBe("in_use");
    const v2 = classifyOn("v2.1.9", [parts()]);
    expect(v2.namespaces[0]!.content[0]!.state).toBe("unreferenced");
    expect(v2.reclaimable.content).toBe(1000);
  });

  it("on 2.x a lease that holds it (an images resource) is refused: deleting it would remove the image", () => {
    const ns = parts();
    ns.leases.push(stale("hold", [res.image("tmp")]));
    const v2 = classifyOn("v2.1.9", [ns]);
    const held = v2.namespaces[0]!.leases[0]!;
    expect(held.refusal).toBe("holds-image");
    expect(held.heldBytes).toBe(1000);
    expect(v2.namespaces[0]!.content[0]!.state).toBe("pinned");
    expect(v2.reclaimable.content).toBe(0);
    // a prune that deleted it anyway would free the image's blob
    expect(predictedBy(v2, [{ namespace: "ns", id: "hold" }], []).content).toBe(1000);
    // an image that has not expired keeps its own data: the lease holds nothing of its own
    const fresh = namespace("ns", {
      content: [blob("x", 1000)],
      images: [image("tmp", "x", { [LABEL.expire]: rfc3339(NOW + HOUR) })],
      leases: [stale("hold", [res.image("tmp")])],
    });
    const kept = classifyOn("v2.1.9", [fresh]).namespaces[0]!;
    expect([kept.leases[0]!.refusal, kept.leases[0]!.heldBytes, kept.content[0]!.state]).toEqual([null, 0, "in_use"]);
  });
});

describe("gc.ref.image labels (2.x)", () => {
  const ns = () =>
    namespace("ns", {
      content: [blob("holder", 1, { [`${LABEL.refImage}.base`]: "tmp" }), blob("x", 1000)],
      images: [image("tmp", "x", { [LABEL.expire]: rfc3339(NOW - 60) })],
      leases: [stale("s", [res.content("holder")])],
    });

  it("on 2.x a blob's gc.ref.image reaches the image and its target; 1.x has no such edge (the image is a root anyway)", () => {
    const v2 = classifyOn("v2.1.9", [ns()]).namespaces[0]!;
    expect(v2.leases[0]!.heldBytes).toBe(1001);
    expect(v2.leases[0]!.refusal).toBe("holds-image");
    const v1 = classifyOn("v1.6.20", [ns()]).namespaces[0]!;
    expect(v1.leases[0]!.heldBytes).toBe(1);
    expect(v1.content.map((b) => b.state)).toEqual(["stale", "in_use"]);
  });
});

describe("sandbox store objects (2.x: their gc.ref labels are roots)", () => {
  const ns = () =>
    namespace("ns", {
      content: [blob("x", 1000)],
      snapshots: [snapshot("overlayfs", "pod-rootfs", { kind: "active", usage: 500 })],
      sandboxes: [{ id: "pod", labels: { [`${LABEL.refContent}.spec`]: digest("x"), [`${LABEL.refSnapshot}overlayfs`]: "pod-rootfs" }, createdAt: NOW }],
      leases: [stale("s", [res.content("x"), res.snapshot("overlayfs", "pod-rootfs")])],
    });

  it("keeps what they reference in_use on 2.x; 1.7 writes sandboxes where GC does not look", () => {
    const v2 = classifyOn("v2.1.9", [ns()]);
    expect(v2.namespaces[0]!.content[0]!.state).toBe("in_use");
    expect(v2.namespaces[0]!.snapshots[0]!.state).toBe("in_use");
    expect(v2.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });
    const v17 = classifyOn("v1.7.24", [ns()]);
    expect(v17.reclaimable).toEqual({ content: 1000, snapshot: 500, ingest: 0 });
  });
});

describe("an ingest's expected digest keeps that blob (every version)", () => {
  it("a leased ingest holds its expected blob through the graph edge", () => {
    const ns = namespace("ns", {
      content: [blob("x", 1000)],
      ingests: [{ ...ingest("dl", { offset: 10, updatedAt: NOW - 5 }), expected: digest("x") }],
      leases: [lease("pull", { createdAt: NOW - 60, expire: NOW + 20 * HOUR, resources: [res.ingest("dl")] })],
    });
    const out = classifyOn("v1.6.20", [ns]).namespaces[0]!;
    expect(out.content[0]!.state).toBe("leased");
    expect(out.leases[0]!.heldBytes).toBe(1010);
  });

  it("the blob's file stays while any namespace keeps an ingest expecting it, even when its metadata goes", () => {
    const owner = namespace("a", { content: [blob("x", 1000)], leases: [stale("s")] });
    const writer = namespace("b", { ingests: [{ ...ingest("dl", { offset: 10, updatedAt: NOW - 5 }), expected: digest("x") }] });
    const out = classifyOn("v1.6.20", [owner, writer]);
    expect(out.namespaces[0]!.content[0]!.state).toBe("stale");
    expect(out.reclaimable.content).toBe(0);
    // once the writer is idle the default prune aborts it, and the blob goes with the lease
    writer.ingests[0]!.updatedAt = NOW - HOUR;
    expect(classifyOn("v1.6.20", [owner, writer]).reclaimable).toEqual({ content: 1000, snapshot: 0, ingest: 10 });
    // a prune that does not abort ingests leaves it, and with it the file
    const noAbort = classifyOn("v1.6.20", [owner, writer]);
    expect(predictedBy(noAbort, [{ namespace: "a", id: "s" }], []).content).toBe(0);
  });
});

describe("an ingest held only by expired leases (every version)", () => {
  it("is collected whatever its write time: stale, and reclaimable with what its lease held", () => {
    const ns = namespace("ns", {
      content: [blob("x", 2000)],
      ingests: [ingest("dl", { offset: 4000, updatedAt: NOW - 1 })],
      leases: [expiredLease("e", [res.content("x"), res.ingest("dl")])],
    });
    const out = classifyOn("v2.1.9", [ns]);
    expect(out.namespaces[0]!.ingests[0]!.state).toBe("stale");
    expect(out.reclaimable).toEqual({ content: 2000, snapshot: 0, ingest: 4000 });
  });
});

describe("expectedDigest", () => {
  it("reads the field, or the digest a client's ref ends with (ListStatuses leaves expected empty)", async () => {
    const { expectedDigest } = await import("../../src/inventory/ingest-expected.js");
    const d = digest("x");
    expect(expectedDigest({ ref: "anything", expected: d })).toBe(d);
    expect(expectedDigest({ ref: `layer-${d}`, expected: "" })).toBe(d);
    expect(expectedDigest({ ref: `manifest-${d}`, expected: "" })).toBe(d);
    expect(expectedDigest({ ref: "tar-blobs/xyz", expected: "" })).toBe("");
    expect(expectedDigest({ ref: `layer-${d}x`, expected: "" })).toBe("");
  });

  it("a cut pull's ingest (ref layer-<digest>) keeps that blob's file while it stays", () => {
    const owner = namespace("a", { content: [blob("x", 1000)], leases: [stale("s")] });
    const writer = namespace("b", { ingests: [ingest(`layer-${digest("x")}`, { offset: 10, updatedAt: NOW - 5 })] });
    expect(classifyOn("v1.6.20", [owner, writer]).reclaimable.content).toBe(0);
  });
});
