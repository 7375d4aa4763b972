import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import { pushImage } from "../lab/images.js";
import { listContent, listImages, listIngests, listLeases, listSnapshots } from "../lab/inspect.js";
import { startThrottleProxy } from "../lab/proxy.js";
import { cancelledDownload, createLease } from "../lab/scenarios.js";
import { spawnCtr } from "../lab/ctr.js";
import { waitFor } from "../lab/wait.js";
import { diskUsage } from "../support/disk.js";
import { parseExposition, sample } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { buildScene, type Scene } from "../support/scene.js";

const TOKEN = "prune-test-token";
const SNAPSHOT_SLACK_PER_SNAPSHOT = 64 * 1024;
const run = promisify(execFile);

let scene: Scene;
let t: TestApp;

/** Everything a prune must never touch, as ctr sees it. */
async function untouchable() {
  const { lab } = scene;
  return {
    appImages: await listImages(lab, "app"),
    appContent: await listContent(lab, "app"),
    appSnapshots: await listSnapshots(lab, "app"),
    appContainers: await lab.ctr("app", "containers", "ls", "-q"),
    keepLeases: await listLeases(lab, "keep"),
    keepContent: await listContent(lab, "keep"),
  };
}

async function prune(body: object, token = TOKEN) {
  return t.app.inject({
    method: "POST",
    url: "/admin/prune",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    payload: JSON.stringify(body),
  });
}

beforeAll(async () => {
  scene = await buildScene();
  t = await startTestApp([`--containerd.address=${scene.lab.socket}`, "--prune.confirm-window=1s"], { ADMIN_TOKEN: TOKEN });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await scene?.stop();
});

describe("prune on the real lab", () => {
  it("deletes nothing on a dry run, and says what would go", async () => {
    const before = await listLeases(scene.lab, "dl");
    const res = await prune({ dryRun: true, leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
    expect(res.statusCode).toBe(200);
    const report = res.json() as PruneReport;
    expect(report.dryRun).toBe(true);
    expect(report.leases.deleted.map((l) => l.namespace).sort()).toEqual(["dl", "unpack"]);
    expect(report.bytes.predicted.total).toBeGreaterThan(0);
    expect(report.bytes.reclaimed).toBeUndefined();
    expect(await listLeases(scene.lab, "dl")).toEqual(before);
  });

  it("predicts what the request removes: nothing for a namespace that is not there, one namespace's share for one", async () => {
    const body = { dryRun: true, leaseStaleAfter: "0s", ingestIdleAfter: "0s" };
    const all = (await prune(body)).json() as PruneReport;
    const none = (await prune({ ...body, namespaces: ["nope"] })).json() as PruneReport;
    const dl = (await prune({ ...body, namespaces: ["dl"] })).json() as PruneReport;
    expect(none.bytes.predicted.total).toBe(0);
    expect(none.leases.deleted).toEqual([]);
    expect(dl.bytes.predicted.total).toBeGreaterThan(0);
    expect(dl.bytes.predicted.total).toBeLessThan(all.bytes.predicted.total);
    // The default request's prediction is what the metrics call reclaimable under the same policy.
    const staleNow = await startTestApp([`--containerd.address=${scene.lab.socket}`, "--lease.stale-after=0s", "--ingest.idle-after=0s"]);
    try {
      const metrics = parseExposition((await staleNow.app.inject({ url: "/metrics" })).body);
      const reclaimable = ["content", "snapshot", "ingest"].reduce((sum, resource) => sum + sample(metrics, "containerd_reclaimable_bytes", { resource }), 0);
      expect(all.bytes.predicted.total).toBe(reclaimable);
    } finally {
      await staleNow.close();
    }
  });

  it("deletes nothing on any refused request", async () => {
    const before = await Promise.all(["dl", "unpack", "keep", "app"].map((ns) => listLeases(scene.lab, ns)));
    const refused = [
      await prune({ leaseStaleAfter: "0s" }, "wrong-token"),
      await prune({ leaseStaleAfter: "0s", surprise: true }),
      await prune({ leaseStaleAfter: "-1m" }),
      await prune({ namespaces: ["../etc"], leaseStaleAfter: "0s" }),
      await prune({ dryRun: "no", leaseStaleAfter: "0s" }),
      await t.app.inject({ method: "DELETE", url: "/admin/prune", headers: { authorization: `Bearer ${TOKEN}` } }),
    ];
    expect(refused.map((r) => r.statusCode)).toEqual([401, 400, 400, 400, 400, 405]);
    expect(await Promise.all(["dl", "unpack", "keep", "app"].map((ns) => listLeases(scene.lab, ns)))).toEqual(before);
  });

  it("leaves everything alone when nothing is stale under the default policy", async () => {
    const res = await prune({});
    expect(res.statusCode).toBe(200);
    expect((res.json() as PruneReport).leases.deleted).toEqual([]);
    expect(await listLeases(scene.lab, "dl")).toHaveLength(1);
  });

  it("refuses to delete a lease that holds an existing container's snapshot, even when named", async () => {
    const id = "c".repeat(64);
    await createLease(scene.lab, "app", { id, expiresIn: null });
    await scene.client.addLeaseResource("app", id, { type: "snapshots/overlayfs", id: "web" });
    const res = await prune({ leases: [id], dryRun: false, namespaces: ["app"] });
    const report = res.json() as PruneReport;
    expect(report.leases.skipped).toContainEqual(expect.objectContaining({ id, reason: "holds-container-snapshot" }));
    expect((await listLeases(scene.lab, "app")).map((l) => l.id)).toContain(id);
  });

  it("runs one prune at a time", async () => {
    const [a, b] = await Promise.all([prune({ dryRun: true }), prune({ dryRun: true })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
  });

  it("gives back the cut pulls' space, measured, and nothing else", async () => {
    const keep = await untouchable();
    const disk = diskUsage(scene.lab.root);
    const res = await prune({ leaseStaleAfter: "0s", ingestIdleAfter: "0s" });
    expect(res.statusCode).toBe(200);
    const report = res.json() as PruneReport;
    expect(report.leases.deleted.map((l) => `${l.namespace}/${l.id}`).sort()).toEqual(
      [`dl/${scene.download.leases[0]?.id}`, `unpack/${scene.unpack.leases[0]?.id}`].sort(),
    );
    expect(report.ingests.aborted.map((i) => i.ref).sort()).toEqual(scene.download.ingests.map((i) => i.ref).sort());
    expect(await listLeases(scene.lab, "dl")).toEqual([]);
    expect(await listLeases(scene.lab, "unpack")).toEqual([]);
    expect(await listIngests(scene.lab, "dl")).toEqual([]);
    expect(await listSnapshots(scene.lab, "unpack")).toEqual([]);
    expect(await listContent(scene.lab, "dl")).toEqual([]);

    const after = diskUsage(scene.lab.root);
    const reclaimed = report.bytes.reclaimed;
    expect(reclaimed?.content).toBe(disk.content - after.content);
    expect(reclaimed?.ingest).toBe(disk.ingest - after.ingest);
    expect(Math.abs((reclaimed?.snapshot ?? 0) - (disk.snapshot - after.snapshot))).toBeLessThanOrEqual(
      scene.unpack.committed.length * SNAPSHOT_SLACK_PER_SNAPSHOT + SNAPSHOT_SLACK_PER_SNAPSHOT,
    );
    // What the metrics predicted is what came back.
    expect(reclaimed?.content).toBe(report.bytes.predicted.content);
    expect(reclaimed?.ingest).toBe(report.bytes.predicted.ingest);
    expect(Math.abs((reclaimed?.snapshot ?? 0) - report.bytes.predicted.snapshot)).toBeLessThanOrEqual(SNAPSHOT_SLACK_PER_SNAPSHOT);
    expect(reclaimed?.total).toBeGreaterThan(1 << 20);
    expect(await untouchable()).toEqual(keep);
    await scene.lab.ctr("app", "content", "get", scene.images.app.manifestDigest);

    const metrics = parseExposition((await t.app.inject({ url: "/metrics" })).body);
    for (const resource of ["content", "snapshot", "ingest"]) {
      expect(sample(metrics, "containerd_reclaimable_bytes", { resource })).toBe(0);
    }
    expect(sample(metrics, "containerd_prune_runs_total", { result: "success" })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, "containerd_prune_leases_deleted_total")).toBe(2);
    expect(sample(metrics, "containerd_prune_reclaimed_bytes_total")).toBe(reclaimed?.total);
    expect(sample(metrics, "containerd_prune_last_success_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("skips a pull still in flight, which then completes", async () => {
    const image = await pushImage(scene.lab, {
      repo: "inflight",
      tag: "1",
      layers: [{ size: 8 << 20 }, { size: 8 << 20 }, { size: 8 << 20 }],
    });
    const proxy = await startThrottleProxy({ target: scene.lab.registry, bytesPerSecond: 4 << 20 });
    const pulledRef = `${proxy.address}/inflight:1`;
    const pull = spawnCtr(scene.lab, "inflight", ["images", "pull", "--plain-http", pulledRef]);
    try {
      await waitFor("the pull's lease", async () => (await listLeases(scene.lab, "inflight")).length === 1, { timeoutMs: 20_000 });
      const res = await prune({ leaseStaleAfter: "0s", ingestIdleAfter: "0s", namespaces: ["inflight"] });
      const report = res.json() as PruneReport;
      expect(report.leases.deleted).toEqual([]);
      expect(report.leases.skipped).toContainEqual(expect.objectContaining({ namespace: "inflight", reason: "in-flight" }));
      expect(report.ingests.aborted).toEqual([]);
      proxy.setRate(Infinity);
      await waitFor("the pull to finish", () => !pull.running(), { timeoutMs: 60_000 });
      expect(pull.output()).not.toMatch(/ctr: /);
    } finally {
      await pull.kill();
      await proxy.stop();
    }
    expect((await listImages(scene.lab, "inflight")).map((i) => i.ref)).toEqual([pulledRef]);
    expect((await listSnapshots(scene.lab, "inflight")).filter((s) => s.kind === "Committed")).toHaveLength(image.layers.length);
    expect(await listLeases(scene.lab, "inflight")).toEqual([]);
  });

  it("reports a lease that vanished during the confirmation window as gone, not as a failure", async () => {
    const image = await pushImage(scene.lab, { repo: "race", tag: "1", layers: [{ size: 2 << 20 }] });
    const cut = await cancelledDownload(scene.lab, "race", image);
    const id = cut.leases[0]?.id as string;
    const pending = prune({ leaseStaleAfter: "0s", ingestIdleAfter: "0s", namespaces: ["race"] });
    await new Promise((resolve) => setTimeout(resolve, 400)); // inside the 1 s window
    await scene.lab.ctr("race", "leases", "rm", "--sync", id);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    const report = res.json() as PruneReport;
    expect(report.leases.deleted).toEqual([]);
    expect(report.leases.skipped).toContainEqual(expect.objectContaining({ id, reason: "gone" }));
  });

  it("works from the command line too", async () => {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "prune", "--dry-run", "--json", `--containerd.address=${scene.lab.socket}`, "--lease-stale-after=0s", "--namespace=keep"],
      { cwd: new URL("../..", import.meta.url).pathname },
    );
    const report = JSON.parse(stdout) as PruneReport;
    expect(report.dryRun).toBe(true);
    expect(report.leases.deleted).toEqual([]);
    const text = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", "df", `--containerd.address=${scene.lab.socket}`],
      { cwd: new URL("../..", import.meta.url).pathname },
    );
    expect(text.stdout).toMatch(/NAMESPACE\s+RESOURCE\s+STATE/);
    expect(text.stdout).toContain("forever");
  });
});
