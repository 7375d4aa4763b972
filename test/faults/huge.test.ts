import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeContainerd, type FakeBlob, type FakeLease } from "../support/fake-containerd.js";
import type { TestApp } from "../support/app.js";
import { sample, select } from "../support/exposition.js";
import { appFor, COLLECTORS, collectorSuccess, digest, scrape, up } from "./support.js";

const BLOBS = 50_000;
const LEASES = 5_000;
const READER_CONCURRENCY = 16; // InventoryReader's default limit on per-object calls

describe("huge lists", () => {
  let fake: FakeContainerd;
  let t: TestApp;
  const now = Date.now() / 1000;
  // Blob i has i+1 bytes; lease j holds blob j (leaked leases: no gc.expire label, no owner).
  const content: FakeBlob[] = Array.from({ length: BLOBS }, (_, i) => ({ digest: digest(i + 1), size: i + 1, createdAt: now - 60 }));
  const leases: FakeLease[] = Array.from({ length: LEASES }, (_, j) => ({
    id: `lease-${j}`,
    createdAt: now - 7200,
    resources: [{ type: "content", id: digest(j + 1) }],
  }));
  const totalBytes = (BLOBS * (BLOBS + 1)) / 2;
  const leasedBytes = (LEASES * (LEASES + 1)) / 2;

  beforeAll(async () => {
    fake = await FakeContainerd.start({ pageSize: 100, data: { namespaces: { big: { content, leases }, small: {} } } });
    // A little latency per ListResources so that concurrency shows.
    fake.setDelay("Leases/ListResources", 2);
    t = await appFor(fake);
  });
  afterAll(async () => {
    await t.close();
    await fake.dispose();
  });

  it(`reads ${BLOBS} streamed blobs and ${LEASES} leases completely, with one ListResources per lease, at most ${READER_CONCURRENCY} at once`, async () => {
    const { status, elapsedMs, samples } = await scrape(t, 30);
    expect(status).toBe(200);
    expect(elapsedMs).toBeLessThan(20_000);
    expect(up(samples)).toBe(1);
    expect(collectorSuccess(samples)).toEqual(Object.fromEntries(COLLECTORS.map((c) => [c, 1])));

    // Values: every blob counted once, the leased ones pinned (leaked leases), the rest unreferenced.
    expect(sample(samples, "containerd_store_bytes", { resource: "content" })).toBe(totalBytes);
    const blobs = select(samples, "containerd_content_blobs", { namespace: "big" });
    expect(blobs.reduce((sum, s) => sum + s.value, 0)).toBe(BLOBS);
    const bytes = select(samples, "containerd_content_bytes", { namespace: "big" });
    expect(bytes.reduce((sum, s) => sum + s.value, 0)).toBe(totalBytes);
    expect(sample(samples, "containerd_content_bytes", { namespace: "big", state: "pinned" })).toBe(leasedBytes);
    expect(sample(samples, "containerd_content_bytes", { namespace: "big", state: "unreferenced" })).toBe(totalBytes - leasedBytes);
    expect(sample(samples, "containerd_leases", { namespace: "big", state: "leaked" })).toBe(LEASES);
    // Per-lease detail stays bounded by --metrics.lease-detail-limit (10), whatever the number of leases.
    expect(select(samples, "containerd_lease_held_bytes").length).toBe(10);

    // The stream really came in pages.
    expect(fake.count("Content/List")).toBe(2); // one per namespace
    expect(fake.count("Leases/ListResources")).toBe(LEASES);
    expect(t.runtime.client.callCounts.get("Leases/ListResources")).toBe(LEASES);
    const maxInFlight = fake.maxInFlight.get("Leases/ListResources") ?? 0;
    expect(maxInFlight).toBeLessThanOrEqual(READER_CONCURRENCY);
    expect(maxInFlight).toBeGreaterThan(1);
  }, 60_000);

  it("keeps the exposition small however many objects there are", async () => {
    const { body, samples } = await scrape(t, 30);
    const stateSeries = samples.filter((s) => s.name.startsWith("containerd_") && !s.name.startsWith("containerd_prune"));
    expect(stateSeries.length).toBeLessThan(300);
    expect(body.length).toBeLessThan(200_000);
  }, 60_000);
});
