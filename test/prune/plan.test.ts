import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import { DEFAULT_POLICY } from "../../src/inventory/states.js";
import { planPrune } from "../../src/prune/plan.js";
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
