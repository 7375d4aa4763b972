import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import { DEFAULT_POLICY } from "../../src/inventory/states.js";
import { planPrune, predictedBy } from "../../src/prune/plan.js";
import { container, HOUR, ingest, inventory, lease, MINUTE, namespace, NOW, res, snapshot, blob } from "../inventory/builders.js";

const expiring = (createdAgo: number) => ({ createdAt: NOW - createdAgo, expire: NOW + 10 * HOUR });

function state() {
  const moby = namespace("moby", {
    leases: [
      lease("stale", { ...expiring(2 * HOUR), resources: [res.content("a"), res.ingest("dl")] }),
      lease("active", { ...expiring(10 * MINUTE), resources: [res.content("b")] }),
      lease("expired", { createdAt: NOW - 30 * HOUR, expire: NOW - HOUR }),
      lease("permanent", { createdAt: NOW - 30 * HOUR }),
      lease("c".repeat(64), { createdAt: NOW - 30 * HOUR, resources: [res.snapshot("overlayfs", "rw")] }),
      lease("stale-rw", { ...expiring(3 * HOUR), resources: [res.snapshot("overlayfs", "rw")] }),
    ],
    content: [blob("a", 10), blob("b", 20)],
    ingests: [ingest("dl", { offset: 5, updatedAt: NOW - HOUR }), ingest("loose", { offset: 7, updatedAt: NOW - 2 * HOUR })],
    snapshots: [snapshot("overlayfs", "rw", { kind: "active", usage: 3 })],
    containers: [container("c1", "overlayfs", "rw")],
  });
  const other = namespace("k8s.io", { leases: [lease("k-stale", expiring(5 * HOUR))] });
  const broken = namespace("broken", { leases: [lease("b-stale", expiring(5 * HOUR))], failed: ["content"] });
  return classify(inventory([moby, other, broken]), DEFAULT_POLICY, NOW);
}

describe("planPrune", () => {
  it("takes stale and expired leases and stale ingests, nothing else", () => {
    const plan = planPrune(state(), { abortIngests: true });
    expect(plan.leases.map((l) => `${l.namespace}/${l.id}`).sort()).toEqual(["k8s.io/k-stale", "moby/expired", "moby/stale"]);
    expect(plan.ingests.map((i) => i.ref).sort()).toEqual(["dl", "loose"]);
    expect(plan.ingests.find((i) => i.ref === "dl")?.leases).toEqual(["stale"]);
    expect(plan.skippedNamespaces).toEqual(["broken"]);
  });

  it("never takes a lease that holds an existing container's snapshot, even stale or named", () => {
    const plan = planPrune(state(), { abortIngests: true, leases: ["c".repeat(64)] });
    const skipped = plan.skippedLeases.map((l) => [l.id, l.reason]);
    expect(skipped).toContainEqual(["c".repeat(64), "holds-container-snapshot"]);
    expect(skipped).toContainEqual(["stale-rw", "holds-container-snapshot"]);
    expect(plan.leases.map((l) => l.id)).not.toContain("c".repeat(64));
  });

  it("takes a named lease even when active or permanent, and reports unknown names", () => {
    const plan = planPrune(state(), { abortIngests: true, leases: ["active", "permanent", "ghost"] });
    const named = plan.leases.filter((l) => l.explicit).map((l) => l.id).sort();
    expect(named).toEqual(["active", "permanent"]);
    expect(plan.skippedLeases).toContainEqual({ namespace: "", id: "ghost", reason: "not-found" });
  });

  it("keeps to the namespaces asked for and leaves ingests alone when told to", () => {
    const plan = planPrune(state(), { abortIngests: false, namespaces: ["k8s.io"] });
    expect(plan.leases.map((l) => l.id)).toEqual(["k-stale"]);
    expect(plan.ingests).toEqual([]);
  });
});

describe("planPrune refuses what an owner still needs, even when named", () => {
  const id = "d".repeat(64);
  function owned() {
    const moby = namespace("moby", {
      content: [blob("cache", 300), blob("leak", 32)],
      snapshots: [
        snapshot("overlayfs", id, { kind: "active", usage: 5000, parent: `${id}-init` }),
        snapshot("overlayfs", `${id}-init`, { usage: 10 }),
      ],
      leases: [
        // a Docker container's layer: no containerd container exists for it
        lease(id, { createdAt: NOW - 30 * HOUR, resources: [res.snapshot("overlayfs", id), res.snapshot("overlayfs", `${id}-init`)] }),
        lease("cache", { createdAt: NOW - 30 * HOUR, labels: { "containerd.io/gc.flat": "" }, resources: [res.content("cache")] }),
        lease("save", { createdAt: NOW - 30 * HOUR, resources: [res.content("leak")] }),
      ],
    });
    const k8s = namespace("k8s.io", {
      sandboxes: [{ id: "pod", labels: {}, createdAt: NOW - HOUR }],
      leases: [lease("pod", { createdAt: NOW - HOUR })],
    });
    return classify(inventory([moby, k8s]), DEFAULT_POLICY, NOW);
  }

  it("skips a Docker container's lease with owned-by-container, a sandbox's with owned-by-sandbox, an owner's cache with owned", () => {
    const plan = planPrune(owned(), { abortIngests: true, leases: [id, "pod", "cache", "save"] });
    expect(plan.skippedLeases.map((l) => [l.id, l.owner, l.reason])).toEqual([
      [id, "docker-container", "owned-by-container"],
      ["cache", "buildkit", "owned"],
      ["pod", "cri-sandbox", "owned-by-sandbox"],
    ]);
    // the leaked save lease goes, but only because it was named
    expect(plan.leases.map((l) => [l.id, l.state, l.owner])).toEqual([["save", "leaked", "unknown"]]);
    expect(planPrune(owned(), { abortIngests: true }).leases).toEqual([]);
  });

  it("counts none of an owned lease's data as reclaimable, and predicts only what the request deletes", () => {
    const classified = owned();
    expect(classified.reclaimable).toEqual({ content: 0, snapshot: 0, ingest: 0 });
    expect(predictedBy(classified, [{ namespace: "moby", id: "save" }], [])).toEqual({ content: 32, snapshot: 0, ingest: 0 });
  });
});

describe("predictedBy", () => {
  it("honours the request's namespaces: nothing is predicted for a namespace that is not asked for", () => {
    const classified = state();
    const all = planPrune(classified, { abortIngests: true });
    expect(predictedBy(classified, all.leases, all.ingests)).toEqual(classified.reclaimable);
    const none = planPrune(classified, { abortIngests: true, namespaces: ["nope"] });
    expect(predictedBy(classified, none.leases, none.ingests)).toEqual({ content: 0, snapshot: 0, ingest: 0 });
    const k8s = planPrune(classified, { abortIngests: false, namespaces: ["k8s.io"] });
    expect(predictedBy(classified, k8s.leases, k8s.ingests)).toEqual({ content: 0, snapshot: 0, ingest: 0 });
    const moby = planPrune(classified, { abortIngests: true, namespaces: ["moby"] });
    expect(predictedBy(classified, moby.leases, moby.ingests)).toEqual({ content: 10, snapshot: 0, ingest: 12 });
  });

  it("a lease left alone (skipped, or not asked for) keeps what it holds", () => {
    const classified = state();
    const plan = planPrune(classified, { abortIngests: true, namespaces: ["moby"] });
    const withoutStale = plan.leases.filter((l) => l.id !== "stale");
    const ingests = plan.ingests.filter((i) => !i.leases.includes("stale"));
    expect(predictedBy(classified, withoutStale, ingests)).toEqual({ content: 0, snapshot: 0, ingest: 7 });
  });
});
