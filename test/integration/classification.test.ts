import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classify, type ClassifiedInventory } from "../../src/inventory/classify.js";
import { InventoryReader } from "../../src/inventory/read.js";
import { diskUsage } from "../support/disk.js";
import { parseExposition, sample, type Sample } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { buildScene, type Scene } from "../support/scene.js";

// A lease is stale once it is older than stale-after; the scene's leases are seconds old.
const POLICY = { leaseStaleAfterMs: 0, ingestIdleAfterMs: 0 };
// Snapshot directories carry a little metadata (directory blocks, the work dir) beyond the usage
// containerd reports: allow 64 KiB per snapshot removed. Content and ingests are exact.
const SNAPSHOT_SLACK_PER_SNAPSHOT = 64 * 1024;

let scene: Scene;
let app: TestApp;
let samples: Sample[];
let classified: ClassifiedInventory;

beforeAll(async () => {
  scene = await buildScene();
  app = await startTestApp([`--containerd.address=${scene.lab.socket}`, "--lease.stale-after=0s", "--ingest.idle-after=0s"]);
  samples = parseExposition((await app.app.inject({ url: "/metrics" })).body);
  classified = classify(await new InventoryReader(scene.client).read(Date.now() + 10_000), POLICY, Date.now() / 1000);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await scene?.stop();
});

const ns = (name: string) => {
  const found = classified.namespaces.find((n) => n.name === name);
  if (!found) throw new Error(`no namespace ${name}`);
  return found;
};

describe("classification of the real scenarios", () => {
  it("calls both cut pulls' leases stale (ctr's: owner client) and the never-expiring, unclaimed lease leaked", () => {
    expect(sample(samples, "containerd_leases", { namespace: "dl", state: "stale", owner: "client" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "unpack", state: "stale", owner: "client" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "keep", state: "leaked", owner: "unknown" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "app", state: "stale", owner: "unknown" })).toBe(0);
  });

  it("reports the cut download's blobs and partial ingests as stale", () => {
    const dl = ns("dl");
    const blobBytes = dl.content.reduce((sum, b) => sum + b.size, 0);
    expect(blobBytes).toBeGreaterThan(0);
    expect(sample(samples, "containerd_content_bytes", { namespace: "dl", state: "stale" })).toBe(blobBytes);
    const ingestBytes = scene.download.ingests.reduce((sum, i) => sum + i.offset, 0);
    expect(sample(samples, "containerd_ingest_bytes", { namespace: "dl", state: "stale" })).toBe(ingestBytes);
    expect(sample(samples, "containerd_ingests", { namespace: "dl", state: "stale" })).toBe(scene.download.ingests.length);
  });

  it("reports the cut unpack's snapshots, the extract one included, as stale", () => {
    const unpack = ns("unpack");
    expect(unpack.snapshots.find((s) => s.name === scene.unpack.extract.key)?.state).toBe("stale");
    const bytes = unpack.snapshots.reduce((sum, s) => sum + (s.usage?.size ?? 0), 0);
    expect(bytes).toBeGreaterThan(0);
    expect(sample(samples, "containerd_snapshot_bytes", { namespace: "unpack", snapshotter: "overlayfs", state: "stale" })).toBe(bytes);
    expect(sample(samples, "containerd_snapshots", { namespace: "unpack", snapshotter: "overlayfs", kind: "active", state: "stale" })).toBe(1);
  });

  it("never counts the complete image, the container or the leaked lease's data as reclaimable", () => {
    const app = ns("app");
    expect(app.content.every((b) => b.state === "in_use")).toBe(true);
    expect(app.snapshots.every((s) => s.state === "in_use")).toBe(true);
    expect(app.snapshots.map((s) => s.name)).toContain("web");
    expect(sample(samples, "containerd_content_bytes", { namespace: "app", state: "stale" })).toBe(0);
    const pinned = ns("keep").content.find((b) => b.digest === scene.pinnedDigest);
    expect(pinned?.state).toBe("pinned");
    // The manifest's gc.ref labels pin the config (and any finished layer) along with it.
    const pinnedBytes = ns("keep").content.filter((b) => b.state === "pinned").reduce((sum, b) => sum + b.size, 0);
    expect(pinnedBytes).toBeGreaterThan(pinned?.size ?? 0);
    expect(sample(samples, "containerd_lease_held_bytes", { namespace: "keep", lease: "forever" })).toBe(pinnedBytes);
    expect(sample(samples, "containerd_content_bytes", { namespace: "keep", state: "stale" })).toBe(0);
  });

  it("counts the node's store as it lies on disk", () => {
    const disk = diskUsage(scene.lab.root);
    expect(sample(samples, "containerd_store_bytes", { resource: "content" })).toBe(disk.content);
    expect(sample(samples, "containerd_store_bytes", { resource: "ingest" })).toBe(disk.ingest);
    const snapshots = classified.namespaces.flatMap((n) => n.snapshots).length;
    const reported = sample(samples, "containerd_store_bytes", { resource: "snapshot" });
    expect(Math.abs(reported - disk.snapshot)).toBeLessThanOrEqual(snapshots * SNAPSHOT_SLACK_PER_SNAPSHOT);
  });

  it("predicts what deleting the stale leases with a synchronous GC frees on disk", async () => {
    const predicted = {
      content: sample(samples, "containerd_reclaimable_bytes", { resource: "content" }),
      snapshot: sample(samples, "containerd_reclaimable_bytes", { resource: "snapshot" }),
      ingest: sample(samples, "containerd_reclaimable_bytes", { resource: "ingest" }),
    };
    expect(predicted.content).toBeGreaterThan(0);
    expect(predicted.snapshot).toBeGreaterThan(0);
    expect(predicted.ingest).toBeGreaterThan(0);
    const before = diskUsage(scene.lab.root);
    const stale = classified.namespaces.flatMap((n) => n.leases.filter((l) => l.state === "stale").map((l) => [n.name, l.id] as const));
    for (const n of classified.namespaces) {
      for (const ingest of n.ingests.filter((i) => i.state === "stale")) await scene.client.abortIngest(n.name, ingest.ref);
    }
    for (const [namespace, id] of stale) await scene.client.deleteLease(namespace, id, true);
    const after = diskUsage(scene.lab.root);
    expect(before.content - after.content).toBe(predicted.content);
    expect(before.ingest - after.ingest).toBe(predicted.ingest);
    const removedSnapshots = ns("unpack").snapshots.length;
    expect(Math.abs(before.snapshot - after.snapshot - predicted.snapshot)).toBeLessThanOrEqual(
      removedSnapshots * SNAPSHOT_SLACK_PER_SNAPSHOT,
    );
    const again = parseExposition((await app.app.inject({ url: "/metrics" })).body);
    expect(sample(again, "containerd_reclaimable_bytes", { resource: "content" })).toBe(0);
    expect(sample(again, "containerd_reclaimable_bytes", { resource: "snapshot" })).toBe(0);
  });
});
