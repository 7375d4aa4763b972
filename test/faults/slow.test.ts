import { describe, expect, it } from "vitest";
import type { FakeMethod } from "../support/fake-containerd.js";
import { sample, select } from "../support/exposition.js";
import { COLLECTORS, collectorSuccess, fakeForFile, leasesOf, SAMPLE_LEASES, sampleNamespace, scrape, up } from "./support.js";

const file = fakeForFile({ namespaces: { default: sampleNamespace("default"), "k8s.io": sampleNamespace("k8s") } });

describe("a healthy fake containerd", () => {
  it("is read completely: every collector succeeds and the states are the expected ones", async () => {
    const t = await file.app();
    const { status, samples } = await scrape(t);
    expect(status).toBe(200);
    expect(up(samples)).toBe(1);
    expect(collectorSuccess(samples)).toEqual(Object.fromEntries(COLLECTORS.map((c) => [c, 1])));
    expect(leasesOf(samples, "default")).toEqual(SAMPLE_LEASES);
    expect(leasesOf(samples, "k8s.io")).toEqual(SAMPLE_LEASES);
    // The stale and expired leases' blobs are reclaimable; the leaked one's is pinned.
    expect(sample(samples, "containerd_content_bytes", { namespace: "default", state: "stale" })).toBe(30_000);
    expect(sample(samples, "containerd_content_bytes", { namespace: "default", state: "pinned" })).toBe(30_000);
    expect(sample(samples, "containerd_content_bytes", { namespace: "default", state: "in_use" })).toBe(103_500);
    expect(sample(samples, "containerd_snapshot_bytes", { namespace: "k8s.io", snapshotter: "overlayfs", state: "in_use" })).toBe(404_096);
    expect(sample(samples, "containerd_info", { version: "v1.7.99-fake" })).toBe(1);
  });
});

describe("a containerd slower than the scrape budget", () => {
  it.each<[FakeMethod, string]>([
    ["Snapshots/Usage", "snapshots"],
    ["Leases/ListResources", "leases"],
    ["Content/List", "content"],
    ["Images/List", "images"],
  ])("%s delayed: the scrape still answers within Prometheus' timeout, the %s collector failed", async (method, collector) => {
    const t = await file.app();
    file.fake.setDelay(method, 5000);
    // Prometheus' scrape_timeout of 1s: the exporter has 1s - 0.5s offset.
    const { status, elapsedMs, samples } = await scrape(t, 1);
    expect(elapsedMs).toBeLessThan(1500);
    expect(status).toBe(200);
    expect(up(samples)).toBe(1);
    const success = collectorSuccess(samples);
    expect(success[collector]).toBe(0);
    for (const other of COLLECTORS.filter((c) => c !== collector)) expect(success[other], other).toBe(1);
    // Half-read namespaces are not reported as if they were complete.
    expect(select(samples, "containerd_leases")).toEqual([]);
    expect(sample(samples, "containerd_reclaimable_bytes", { resource: "content" })).toBe(0);
    // The delayed calls were given up on (the client's deadline cancels them), not left to pile up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(file.fake.inFlight.get(method) ?? 0).toBe(0);
  });

  it("containerd_up is 0 when not even the namespace list answers in time, still within the budget", async () => {
    const t = await file.app();
    file.fake.setDelay("Namespaces/List", 5000);
    const { status, elapsedMs, samples } = await scrape(t, 1);
    expect(elapsedMs).toBeLessThan(1500);
    expect(status).toBe(200);
    expect(up(samples)).toBe(0);
    expect(collectorSuccess(samples).namespaces).toBe(0);
  });

  it("recovers on the next scrape once containerd is fast again", async () => {
    const t = await file.app();
    file.fake.setDelay("Snapshots/Usage", 5000);
    expect(collectorSuccess((await scrape(t, 1)).samples).snapshots).toBe(0);
    file.fake.reset();
    const { samples } = await scrape(t, 1);
    expect(collectorSuccess(samples).snapshots).toBe(1);
    expect(leasesOf(samples, "default")).toEqual(SAMPLE_LEASES);
  });

  // Concurrent scrapes share one read, but not one that may outlast their own budget.
  it("a scrape arriving while a slower read is in flight (/api/v1/inventory's 10s) still answers within its own budget", async () => {
    const t = await file.app();
    file.fake.setDelay("Snapshots/Usage", 2000);
    const inventory = t.app.inject({ url: "/api/v1/inventory" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { status, elapsedMs, samples } = await scrape(t, 1);
    expect(elapsedMs).toBeLessThan(1500);
    expect(status).toBe(200);
    expect(up(samples)).toBe(1);
    expect(collectorSuccess(samples).snapshots).toBe(0);
    expect((await inventory).statusCode).toBe(200);
  });

  it("a scrape arriving during a prune's read (60s budget) still answers within its own budget", async () => {
    const t = await file.app(["--prune.confirm-window=0s"], { ADMIN_TOKEN: "correct-horse-battery-staple" });
    file.fake.setDelay("Snapshots/Usage", 2000);
    const prune = t.app.inject({
      method: "POST",
      url: "/admin/prune",
      headers: { authorization: "Bearer correct-horse-battery-staple", "content-type": "application/json" },
      payload: JSON.stringify({ dryRun: true }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { status, elapsedMs, samples } = await scrape(t, 1);
    expect(elapsedMs).toBeLessThan(1500);
    expect(status).toBe(200);
    expect(up(samples)).toBe(1);
    expect((await prune).statusCode).toBe(200);
  }, 15_000);
});
