import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import type { FakeMethod } from "../support/fake-containerd.js";
import { select } from "../support/exposition.js";
import { COLLECTORS, collectorSuccess, fakeForFile, leasesOf, SAMPLE_LEASES, sampleNamespace, scrape, up } from "./support.js";

/** Every family that describes a namespace's state. */
const STATE_FAMILIES = [
  "containerd_leases",
  "containerd_lease_oldest_created_timestamp_seconds",
  "containerd_lease_held_bytes",
  "containerd_content_blobs",
  "containerd_content_bytes",
  "containerd_ingests",
  "containerd_ingest_bytes",
  "containerd_snapshots",
  "containerd_snapshot_bytes",
];

const file = fakeForFile({
  namespaces: {
    default: sampleNamespace("default"),
    "k8s.io": sampleNamespace("k8s"),
    bad: sampleNamespace("bad"),
  },
});

describe("one namespace failing", () => {
  it.each<[FakeMethod, string, grpc.status]>([
    ["Leases/List", "leases", grpc.status.INTERNAL],
    ["Leases/ListResources", "leases", grpc.status.INTERNAL],
    ["Content/List", "content", grpc.status.UNKNOWN],
    ["Content/ListStatuses", "ingests", grpc.status.PERMISSION_DENIED],
    ["Snapshots/List", "snapshots", grpc.status.UNAVAILABLE],
    ["Snapshots/Usage", "snapshots", grpc.status.INTERNAL],
    ["Images/List", "images", grpc.status.RESOURCE_EXHAUSTED],
    ["Containers/List", "containers", grpc.status.INTERNAL],
  ])("%s failing for \"bad\" only: the other namespaces are reported in full, \"bad\" not at all", async (method, collector, code) => {
    const t = await file.app();
    file.fake.fail(method, { code, namespace: "bad" });
    const { status, samples } = await scrape(t);
    expect(status).toBe(200);
    expect(up(samples)).toBe(1);
    expect(leasesOf(samples, "default")).toEqual(SAMPLE_LEASES);
    expect(leasesOf(samples, "k8s.io")).toEqual(SAMPLE_LEASES);
    for (const family of STATE_FAMILIES) expect(select(samples, family, { namespace: "bad" }), family).toEqual([]);
    const success = collectorSuccess(samples);
    expect(success[collector]).toBe(0);
    for (const other of COLLECTORS.filter((c) => c !== collector)) expect(success[other], other).toBe(1);
  });

  // NOT_FOUND from Usage means "removed between List and Usage": not a failure.
  it("takes Snapshots/Usage NOT_FOUND as a snapshot that went away, not as a failure", async () => {
    const t = await file.app();
    file.fake.fail("Snapshots/Usage", { code: grpc.status.NOT_FOUND, namespace: "bad" });
    const { samples } = await scrape(t);
    expect(collectorSuccess(samples).snapshots).toBe(1);
    expect(leasesOf(samples, "bad")).toEqual(SAMPLE_LEASES);
  });

  // NOT_FOUND from ListResources means "deleted between Leases/List and ListResources" (BuildKit
  // drops temporary leases all through a build): the lease is gone, the namespace still complete.
  it("takes Leases/ListResources NOT_FOUND as a lease that went away, not as a failure", async () => {
    const t = await file.app();
    file.fake.fail("Leases/ListResources", { code: grpc.status.NOT_FOUND, namespace: "bad" });
    const { samples } = await scrape(t);
    expect(collectorSuccess(samples).leases).toBe(1);
    const none = Object.fromEntries(Object.keys(SAMPLE_LEASES).map((state) => [state, 0]));
    expect(leasesOf(samples, "bad")).toEqual(none);
    expect(select(samples, "containerd_content_blobs", { namespace: "bad" }).length).toBeGreaterThan(0);
    expect(leasesOf(samples, "default")).toEqual(SAMPLE_LEASES);
  });

  it("names the incomplete namespace and the reason in /api/v1/inventory", async () => {
    const t = await file.app();
    file.fake.fail("Leases/List", { code: grpc.status.INTERNAL, namespace: "bad", message: "boltdb is on fire" });
    const res = await t.app.inject({ url: "/api/v1/inventory" });
    expect(res.statusCode).toBe(200);
    const report = res.json() as { incompleteNamespaces: string[] };
    expect(report.incompleteNamespaces).toEqual(["bad"]);
    expect(res.body).not.toContain("bad-stale"); // no stuck lease of an incomplete namespace is offered for pruning
  });

  it("never prunes in an incomplete namespace, and does prune a complete one", async () => {
    const t = await file.app(["--prune.confirm-window=0s"], { ADMIN_TOKEN: "correct-horse-battery-staple" });
    file.fake.fail("Content/List", { code: grpc.status.INTERNAL, namespace: "bad" });
    const before = file.fake.data.namespaces.bad?.leases?.length;
    const res = await t.app.inject({
      method: "POST",
      url: "/admin/prune",
      headers: { authorization: "Bearer correct-horse-battery-staple", "content-type": "application/json" },
      payload: JSON.stringify({ namespaces: ["bad"] }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ skippedNamespaces: ["bad"], leases: { deleted: [] } });
    expect(file.fake.count("Leases/Delete")).toBe(0);
    expect(file.fake.data.namespaces.bad?.leases?.length).toBe(before);
    // The same request for a namespace that reads completely deletes its stale and expired leases.
    file.fake.reset();
    const ok = await t.app.inject({
      method: "POST",
      url: "/admin/prune",
      headers: { authorization: "Bearer correct-horse-battery-staple", "content-type": "application/json" },
      payload: JSON.stringify({ namespaces: ["bad"] }),
    });
    expect(ok.statusCode).toBe(200);
    expect(file.fake.data.namespaces.bad?.leases?.map((l) => l.id).sort()).toEqual(["bad-active", "bad-permanent"]);
  });
});
