import { describe, expect, it } from "vitest";
import { classify } from "../../src/inventory/classify.js";
import { DEFAULT_POLICY, LEASE_STATES, RESOURCE_STATES } from "../../src/inventory/states.js";
import { ExporterMetrics } from "../../src/metrics/exporter-metrics.js";
import {
  blob,
  container,
  HOUR,
  image,
  ingest,
  inventory,
  lease,
  MINUTE,
  namespace,
  NOW,
  res,
  snapshot,
} from "../inventory/builders.js";
import { parseExposition, sample, select } from "../support/exposition.js";

const BUILD = { version: "9.9.9", revision: "abc123", branch: "main", nodeVersion: "v20.0.0" };
const metrics = new ExporterMetrics({ build: BUILD });

/** Two namespaces sharing a stale blob, a stuck download, an image, a container, BuildKit's owned cache lease. */
function scenario() {
  const moby = namespace("moby", {
    leases: [
      lease("pull-1", { createdAt: NOW - 3 * HOUR, expire: NOW + 20 * HOUR, resources: [res.content("layer"), res.ingest("dl-1")] }),
      lease("pull-2", { createdAt: NOW - 5 * MINUTE, expire: NOW + 20 * HOUR, resources: [res.content("fresh")] }),
      lease("old", { createdAt: NOW - 30 * HOUR, expire: NOW - 6 * HOUR, resources: [res.snapshot("overlayfs", "extract-1")] }),
      lease("buildkit", { createdAt: NOW - 10 * HOUR, labels: { "containerd.io/gc.flat": "" }, resources: [res.content("cache")] }),
    ],
    content: [blob("layer", 1000), blob("fresh", 10), blob("cache", 300), blob("img", 50), blob("lost", 7)],
    ingests: [ingest("dl-1", { offset: 400, updatedAt: NOW - HOUR })],
    snapshots: [
      snapshot("overlayfs", "extract-1", { kind: "active", usage: 2000 }),
      snapshot("overlayfs", "ctr-1", { kind: "active", usage: 5 }),
    ],
    images: [image("docker.io/library/img:1", "img")],
    containers: [container("c1", "overlayfs", "ctr-1")],
  });
  const other = namespace("default", { content: [blob("layer", 1000)] });
  return classify(inventory([moby, other]), DEFAULT_POLICY, NOW);
}

async function render(classified = scenario(), leaseDetailLimit = 10, openMetrics = false) {
  return metrics.render({ classified, exporterVersion: "9.9.9", leaseDetailLimit }, openMetrics);
}

describe("metric families", () => {
  it("counts every lease state per namespace and owner, zeros included", async () => {
    const samples = parseExposition((await render()).body);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "stale", owner: "docker" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "active", owner: "docker" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "expired", owner: "docker" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "owned", owner: "buildkit" })).toBe(1);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "leaked", owner: "docker" })).toBe(0);
    // every state has a series in every namespace (owner unknown where there is no lease), so sum by (state) never goes absent
    for (const state of LEASE_STATES) {
      expect(sample(samples, "containerd_leases", { namespace: "default", state, owner: "unknown" })).toBe(0);
      expect(select(samples, "containerd_leases", { namespace: "moby", state }).map((s) => s.labels.owner).sort()).toEqual([
        "buildkit",
        "docker",
      ]);
    }
    expect(sample(samples, "containerd_lease_oldest_created_timestamp_seconds", { namespace: "moby", state: "expired" })).toBe(NOW - 30 * HOUR);
    expect(select(samples, "containerd_lease_oldest_created_timestamp_seconds", { namespace: "default" })).toHaveLength(0);
  });

  it("reports content, ingest and snapshot bytes by state", async () => {
    const samples = parseExposition((await render()).body);
    expect(sample(samples, "containerd_content_bytes", { namespace: "moby", state: "stale" })).toBe(1000);
    expect(sample(samples, "containerd_content_bytes", { namespace: "moby", state: "in_use" })).toBe(50);
    expect(sample(samples, "containerd_content_bytes", { namespace: "moby", state: "pinned" })).toBe(300);
    expect(sample(samples, "containerd_content_bytes", { namespace: "moby", state: "unreferenced" })).toBe(7);
    expect(sample(samples, "containerd_content_blobs", { namespace: "default", state: "unreferenced" })).toBe(1);
    expect(sample(samples, "containerd_ingest_bytes", { namespace: "moby", state: "stale" })).toBe(400);
    expect(sample(samples, "containerd_ingest_oldest_updated_timestamp_seconds", { namespace: "moby" })).toBe(NOW - HOUR);
    expect(sample(samples, "containerd_snapshot_bytes", { namespace: "moby", snapshotter: "overlayfs", state: "stale" })).toBe(2000);
    expect(sample(samples, "containerd_snapshots", { namespace: "moby", snapshotter: "overlayfs", kind: "active", state: "in_use" })).toBe(1);
    // overlayfs holds something (in moby), so every namespace has its zeros; native holds
    // nothing anywhere and has no series at all.
    for (const state of RESOURCE_STATES) {
      expect(select(samples, "containerd_snapshots", { namespace: "default", snapshotter: "overlayfs", state })).toHaveLength(3);
      expect(sample(samples, "containerd_snapshot_bytes", { namespace: "default", snapshotter: "overlayfs", state })).toBe(0);
    }
    expect(select(samples, "containerd_snapshots", { snapshotter: "native" })).toHaveLength(0);
    expect(select(samples, "containerd_snapshot_bytes", { snapshotter: "native" })).toHaveLength(0);
  });

  it("counts a shared blob once on the node and reclaims it only when every namespace lets go", async () => {
    const samples = parseExposition((await render()).body);
    expect(sample(samples, "containerd_store_bytes", { resource: "content" })).toBe(1000 + 10 + 300 + 50 + 7);
    expect(sample(samples, "containerd_reclaimable_bytes", { resource: "content" })).toBe(1000 + 7);
    expect(sample(samples, "containerd_reclaimable_bytes", { resource: "snapshot" })).toBe(2000);
    expect(sample(samples, "containerd_reclaimable_bytes", { resource: "ingest" })).toBe(400);
  });

  it("details the largest stuck leases only, up to the limit; never an owned one", async () => {
    const all = parseExposition((await render()).body);
    const held = select(all, "containerd_lease_held_bytes");
    expect(held.map((s) => s.labels.lease).sort()).toEqual(["old", "pull-1"]);
    expect(sample(all, "containerd_lease_held_bytes", { lease: "old", state: "expired", owner: "docker" })).toBe(2000);
    const top1 = select(parseExposition((await render(scenario(), 1)).body), "containerd_lease_held_bytes");
    expect(top1.map((s) => s.labels.lease)).toEqual(["old"]);
    expect(select(parseExposition((await render(scenario(), 0)).body), "containerd_lease_held_bytes")).toHaveLength(0);
  });

  it("ten busy Docker containers do not push a smaller stale lease out of the top ten", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(64).slice(0, 64));
    const moby = namespace("moby", {
      snapshots: [
        ...ids.map((id) => snapshot("overlayfs", id, { kind: "active", usage: 5 << 20 })),
        snapshot("overlayfs", "extract-1", { kind: "active", usage: 4 << 20 }),
      ],
      leases: [
        ...ids.map((id) => lease(id, { createdAt: NOW - 2 * HOUR, resources: [res.snapshot("overlayfs", id)] })),
        lease("cut", { createdAt: NOW - 2 * HOUR, expire: NOW + 20 * HOUR, resources: [res.snapshot("overlayfs", "extract-1")] }),
      ],
    });
    const samples = parseExposition((await render(classify(inventory([moby]), DEFAULT_POLICY, NOW), 10)).body);
    expect(select(samples, "containerd_lease_held_bytes").map((s) => [s.labels.lease, s.labels.state, s.labels.owner])).toEqual([
      ["cut", "stale", "docker"],
    ]);
    expect(sample(samples, "containerd_lease_held_bytes", { lease: "cut" })).toBe(4 << 20);
    expect(sample(samples, "containerd_leases", { namespace: "moby", state: "owned", owner: "docker-container" })).toBe(10);
  });

  it("leaves a namespace that was not read completely out of the state metrics", async () => {
    const broken = namespace("broken", { content: [blob("x", 5)], failed: ["images"] });
    const classified = classify(inventory([broken]), DEFAULT_POLICY, NOW);
    const samples = parseExposition((await render(classified)).body);
    expect(select(samples, "containerd_leases", { namespace: "broken" })).toHaveLength(0);
    expect(select(samples, "containerd_content_bytes", { namespace: "broken" })).toHaveLength(0);
    expect(sample(samples, "containerd_reclaimable_bytes", { resource: "content" })).toBe(0);
    expect(sample(samples, "containerd_store_bytes", { resource: "content" })).toBe(5);
  });

  it("keeps the exporter's build info and containerd's version apart, and exposes the prune counters at zero", async () => {
    const samples = parseExposition((await render()).body);
    expect(
      sample(samples, "containerd_exporter_build_info", { version: "9.9.9", revision: "abc123", branch: "main", nodeversion: "v20.0.0" }),
    ).toBe(1);
    expect(select(samples, "containerd_exporter_build_info")[0]?.labels).not.toHaveProperty("containerd_version");
    expect(sample(samples, "containerd_info", { version: "v1.6.20", revision: "test" })).toBe(1);
    expect(sample(samples, "containerd_up")).toBe(1);
    for (const result of ["success", "failure", "dry_run"]) {
      expect(sample(samples, "containerd_prune_runs_total", { result, trigger: "http" })).toBe(0);
    }
    // Only the triggers this process has: no schedule series without --prune.interval.
    expect(select(samples, "containerd_prune_runs_total", { trigger: "schedule" })).toHaveLength(0);
    expect(sample(samples, "containerd_prune_reclaimed_bytes_total", { trigger: "http" })).toBe(0);
    expect(select(samples, "containerd_prune_last_success_timestamp_seconds")).toHaveLength(0);
  });

  it("counts prunes by trigger, a trigger's series appearing with its first run", async () => {
    const own = new ExporterMetrics({ build: BUILD, triggers: ["http", "schedule"] });
    own.recordPrune({ trigger: "schedule", result: "success", reclaimedBytes: 4096, leasesDeleted: 2, ingestsAborted: 1 });
    own.recordPrune({ trigger: "cli", result: "failure", reclaimedBytes: 0, leasesDeleted: 0, ingestsAborted: 0, error: "x" });
    const samples = parseExposition((await own.render({ classified: scenario(), exporterVersion: "9.9.9", leaseDetailLimit: 10 }, false)).body);
    expect(sample(samples, "containerd_prune_runs_total", { result: "success", trigger: "schedule" })).toBe(1);
    expect(sample(samples, "containerd_prune_runs_total", { result: "failure", trigger: "schedule" })).toBe(0);
    expect(sample(samples, "containerd_prune_runs_total", { result: "failure", trigger: "cli" })).toBe(1);
    expect(sample(samples, "containerd_prune_reclaimed_bytes_total", { trigger: "schedule" })).toBe(4096);
    expect(sample(samples, "containerd_prune_leases_deleted_total", { trigger: "schedule" })).toBe(2);
    expect(sample(samples, "containerd_prune_ingests_aborted_total", { trigger: "schedule" })).toBe(1);
    expect(select(samples, "containerd_prune_last_success_timestamp_seconds")).toHaveLength(1);
    expect(own.lastPrune).toMatchObject({ trigger: "cli", result: "failure", error: "x" });
  });

  it("leaves the node-level byte metrics and containerd_info out while containerd does not answer", async () => {
    const down = classify({ ...inventory([]), up: false, containerd: null, snapshotters: [] }, DEFAULT_POLICY, NOW);
    const samples = parseExposition((await render(down)).body);
    expect(sample(samples, "containerd_up")).toBe(0);
    expect(select(samples, "containerd_reclaimable_bytes")).toHaveLength(0);
    expect(select(samples, "containerd_store_bytes")).toHaveLength(0);
    expect(select(samples, "containerd_info")).toHaveLength(0);
    expect(select(samples, "containerd_content_bytes")).toHaveLength(0);
    expect(sample(samples, "containerd_exporter_build_info", { version: "9.9.9" })).toBe(1);
  });

  it("speaks OpenMetrics when asked", async () => {
    const { body, contentType } = await render(scenario(), 10, true);
    expect(contentType).toMatch(/application\/openmetrics-text/);
    expect(body.trimEnd().endsWith("# EOF")).toBe(true);
  });
});
