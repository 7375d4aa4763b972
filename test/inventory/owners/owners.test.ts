import { describe, expect, it } from "vitest";
import { classifyNamespace } from "../../../src/inventory/classify.js";
import { OWNER_RULES, OWNERS, ownerOf } from "../../../src/inventory/owners/index.js";
import { DEFAULT_POLICY, LABEL } from "../../../src/inventory/states.js";
import type { LeaseEntry, NamespaceInventory } from "../../../src/inventory/types.js";
import { HOUR, lease, namespace, NOW, res, snapshot } from "../builders.js";

const CONTAINER = "ab".repeat(32);
const expiring = { createdAt: NOW - 2 * HOUR, expire: NOW + 6 * HOUR };
const never = { createdAt: NOW - 30 * HOUR };

function ownerIn(ns: NamespaceInventory, l: LeaseEntry) {
  return ownerOf(l, { ...ns, leases: [l] });
}

describe("owner rules", () => {
  it("registers one rule per owner, unknown last", () => {
    expect(OWNER_RULES.map((r) => r.owner).sort()).toEqual([...OWNERS].sort());
    expect(OWNER_RULES.at(-1)?.owner).toBe("unknown");
  });

  it("docker-container: a 64-hex id in a Docker namespace holding snapshot <id> and/or <id>-init", () => {
    const moby = namespace("moby");
    const both = lease(CONTAINER, { ...never, resources: [res.snapshot("overlayfs", CONTAINER), res.snapshot("overlayfs", `${CONTAINER}-init`)] });
    const initOnly = lease(CONTAINER, { ...never, resources: [res.snapshot("overlayfs", `${CONTAINER}-init`)] });
    expect(ownerIn(moby, both)).toBe("docker-container");
    expect(ownerIn(moby, initOnly)).toBe("docker-container");
    // not a container's: another snapshot, no hex id, another namespace
    expect(ownerIn(moby, lease(CONTAINER, { ...never, resources: [res.snapshot("overlayfs", "rw")] }))).toBe("unknown");
    expect(ownerIn(moby, lease("abc", { ...never, resources: [res.snapshot("overlayfs", "abc")] }))).toBe("unknown");
    expect(ownerIn(namespace("default"), both)).toBe("unknown");
    expect(ownerIn(namespace("plugins.moby"), both)).toBe("docker-container");
  });

  it("docker-pull: moby/prune.images, whatever the namespace", () => {
    expect(ownerIn(namespace("moby"), lease("x", { ...expiring, labels: { "moby/prune.images": "true" } }))).toBe("docker-pull");
  });

  it("docker: other expiring leases in a Docker namespace; a never-expiring one there is no one's", () => {
    expect(ownerIn(namespace("moby"), lease("642873750-SI8m", expiring))).toBe("docker");
    expect(ownerIn(namespace("moby"), lease("save-leak", never))).toBe("unknown");
  });

  it("buildkit: gc.flat, buildkit/lease.temporary, or namespace moby_history", () => {
    expect(ownerIn(namespace("moby"), lease("rec", { ...never, labels: { [LABEL.flat]: "" } }))).toBe("buildkit");
    expect(ownerIn(namespace("buildkit"), lease("tmp", { ...expiring, labels: { "buildkit/lease.temporary": "" } }))).toBe("buildkit");
    expect(ownerIn(namespace("moby_history"), lease("ref_abc", never))).toBe("buildkit");
  });

  it("buildkit: a label-less <id>-variants beside its cache record <id>, and only there", () => {
    const record = lease("ixk3wkjupn32h3appcbfl5ejl", { ...never, labels: { [LABEL.flat]: "" } });
    const variants = lease("ixk3wkjupn32h3appcbfl5ejl-variants", never);
    expect(ownerOf(variants, namespace("moby", { leases: [record, variants] }))).toBe("buildkit");
    // Without its record (or beside a lease that is not one) nothing says who keeps it.
    expect(ownerOf(variants, namespace("moby", { leases: [variants] }))).toBe("unknown");
    const plain = lease("ixk3wkjupn32h3appcbfl5ejl", never);
    expect(ownerOf(variants, namespace("moby", { leases: [plain, variants] }))).toBe("unknown");
  });

  it("cri: expiring leases in k8s.io; cri-sandbox: a lease named by a sandbox of the store", () => {
    const k8s = namespace("k8s.io", { sandboxes: [{ id: "pod1", labels: {}, createdAt: NOW }] });
    expect(ownerIn(k8s, lease("pull", expiring))).toBe("cri");
    expect(ownerIn(k8s, lease("pod1", never))).toBe("cri-sandbox");
    expect(ownerIn(k8s, lease("pod2", never))).toBe("unknown");
  });

  it("k3s-import: the program-named lease in k8s.io", () => {
    expect(ownerIn(namespace("k8s.io"), lease("k3s", never))).toBe("k3s-import");
    expect(ownerIn(namespace("k8s.io"), lease("rke2", never))).toBe("k3s-import");
    expect(ownerIn(namespace("default"), lease("k3s", never))).toBe("unknown");
  });

  it("client: any other expiring lease (ctr, nerdctl, the transfer service); unknown: the rest", () => {
    expect(ownerIn(namespace("default"), lease("123-abc", expiring))).toBe("client");
    expect(ownerIn(namespace("default"), lease("pinned-by-hand", never))).toBe("unknown");
  });

  it("priority: the specific evidence wins over the namespace-wide rules", () => {
    const moby = namespace("moby");
    const flatContainer = lease(CONTAINER, { ...never, labels: { [LABEL.flat]: "" }, resources: [res.snapshot("overlayfs", CONTAINER)] });
    expect(ownerIn(moby, flatContainer)).toBe("docker-container");
    expect(ownerIn(moby, lease("b", { ...expiring, labels: { [LABEL.flat]: "", "moby/prune.images": "true" } }))).toBe("buildkit");
  });
});

describe("owned and leaked", () => {
  it("a never-expiring lease is owned when its owner keeps it, leaked otherwise; the owner is on the classified lease", () => {
    const ns = namespace("moby", {
      snapshots: [snapshot("overlayfs", CONTAINER, { kind: "active", usage: 5 })],
      leases: [
        lease(CONTAINER, { ...never, resources: [res.snapshot("overlayfs", CONTAINER)] }),
        lease("save", never),
        lease("cache", { ...never, labels: { [LABEL.flat]: "" } }),
      ],
    });
    const c = classifyNamespace(ns, DEFAULT_POLICY, NOW);
    expect(c.leases.map((l) => [l.id, l.owner, l.state])).toEqual([
      [CONTAINER, "docker-container", "owned"],
      ["save", "unknown", "leaked"],
      ["cache", "buildkit", "owned"],
    ]);
  });
});
