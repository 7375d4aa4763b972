import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PruneReport } from "../../src/prune/pruner.js";
import { startContainerd, type Containerd } from "../lab/containerd.js";
import { ctr } from "../lab/ctr.js";
import { buildImage, ociArchive, type BuiltImage } from "../lab/oci.js";
import { waitFor } from "../lab/wait.js";
import { parseExposition, sample, select } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { startExporter } from "../support/exporter-process.js";
import { fetchPrune, injectPrune } from "../support/prune-check.js";

// A private real containerd (these tests pause it): what a prune reports as reclaimed is
// what it removed, measured object by object, never a difference of store totals that a
// pull during the prune or a read that failed can make up.
const TOKEN = "prune-measure-token";
let containerd: Containerd;
let dir: string;
let t: TestApp | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(process.cwd(), ".lab", "measure-"));
  containerd = await startContainerd({ dir });
}, 60_000);
afterEach(async () => {
  process.kill(containerd.pid, "SIGCONT"); // never leave it paused for the next test
  await t?.close();
  t = undefined;
});
afterAll(async () => {
  await containerd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const app = async () =>
  (t = await startTestApp(
    [`--containerd.address=${containerd.socket}`, "--prune.confirm-window=2s", "--containerd.timeout=1s"],
    { ADMIN_TOKEN: TOKEN },
  ));

/** `ctr images import` of a seeded image: its blobs land in the content store. */
async function importImage(ns: string, tag: string, layerBytes: number): Promise<BuiltImage> {
  const image = buildImage({ repo: "measure", tag, layers: [{ size: layerBytes }] });
  const archive = join(dir, `${tag}.tar`);
  writeFileSync(archive, ociArchive(image, tag));
  await ctr(containerd, ns, ["images", "import", "--no-unpack", "--base-name", "example.com/measure", archive]);
  rmSync(archive);
  return image;
}
const blobBytes = (image: BuiltImage) => [...image.blobs.values()].reduce((sum, b) => sum + b.length, 0);

const prune = (body: object) => injectPrune(t!.app, TOKEN, body);
const counters = async () => {
  const samples = parseExposition((await t!.app.inject({ url: "/metrics" })).body);
  return {
    success: sample(samples, "containerd_prune_runs_total", { result: "success" }),
    failure: sample(samples, "containerd_prune_runs_total", { result: "failure" }),
    reclaimed: sample(samples, "containerd_prune_reclaimed_bytes_total"),
  };
};

const reclaimable = async () =>
  select(parseExposition((await t!.app.inject({ url: "/metrics" })).body), "containerd_reclaimable_bytes").reduce((sum, s) => sum + s.value, 0);

describe("the prune's measurement", () => {
  it("a read that fails after the prune is a failure, never bytes reclaimed", async () => {
    await importImage("kept", "kept", 2 << 20); // bytes in the store, none reclaimable
    await app();
    // The import's own lease leaves a blob or two for containerd's next collection, which runs
    // moments later; until it has, the prune would force one and meet the pause there instead.
    await waitFor("containerd to collect what the import left", async () => (await reclaimable()) === 0, { timeoutMs: 20_000 });
    const pruning = prune({ namespaces: ["kept"], leaseStaleAfter: "0s" });
    await new Promise((resolve) => setTimeout(resolve, 1000)); // inside the 2 s window
    process.kill(containerd.pid, "SIGSTOP");
    const res = await pruning;
    process.kill(containerd.pid, "SIGCONT");

    expect(res.statusCode).toBe(502);
    const report = res.json() as PruneReport & { error: string };
    expect(report.error).toMatch(/could not be measured after the prune/);
    expect(report.bytes.measurementError).toMatch(/containerd did not answer/);
    expect(report.bytes.reclaimed).toBeUndefined();
    expect(report.bytes.after).toBeUndefined();
    expect(await counters()).toEqual({ success: 0, failure: 1, reclaimed: 0 });
  }, 60_000);

  it("reports what the prune removed, and a pull meanwhile as drift", async () => {
    // A cut pull's leftovers: blobs held only by an expiring lease.
    const left = await importImage("cut", "cut", 3 << 20);
    await app();
    const client = t!.runtime.client;
    const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    await client.createLease("cut", "cut-pull", { "containerd.io/gc.expire": expire });
    for (const digest of left.blobs.keys()) await client.addLeaseResource("cut", "cut-pull", { type: "content", id: digest });
    await ctr(containerd, "cut", ["images", "rm", "--sync", "example.com/measure:cut"]);

    const pruning = prune({ namespaces: ["cut"], leaseStaleAfter: "0s" });
    await waitFor("the prune to read the store", () => (client.callCounts.get("Leases/ListResources") ?? 0) > 0, {
      timeoutMs: 10_000,
      intervalMs: 5,
    });
    const pulled = await importImage("busy", "pulled-meanwhile", 4 << 20); // inside the 2 s window
    const res = await pruning;

    expect(res.statusCode).toBe(200);
    const report = res.json() as PruneReport;
    expect(report.leases.deleted.map((l) => l.id)).toEqual(["cut-pull"]);
    expect(report.bytes.reclaimed?.content).toBe(blobBytes(left));
    expect(report.bytes.drift?.content).toBe(blobBytes(pulled));
    expect(report.bytes.after?.content).toBe(report.bytes.before.content - blobBytes(left) + blobBytes(pulled));
    expect(await counters()).toEqual({ success: 1, failure: 0, reclaimed: report.bytes.reclaimed?.total });
  }, 60_000);
});

describe("a delete containerd carries out after the exporter gave up on it", () => {
  it("has its audit lines: intent before the call, the outcome settled by re-reading", async () => {
    await app();
    const client = t!.runtime.client;
    const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const ids = Array.from({ length: 60 }, (_, i) => `paused-${String(i).padStart(2, "0")}`);
    for (const id of ids) await client.createLease("paused", id, { "containerd.io/gc.expire": expire });
    const deletes = () => t!.logs().split("\n").filter((l) => l.includes('"audit":"lease-delete"'));

    const pruning = prune({ namespaces: ["paused"], leaseStaleAfter: "0s" });
    // Paused right after the first delete: the next one is sent to a daemon that does not answer.
    await waitFor("the first delete", () => deletes().some((l) => l.includes('"outcome":"deleted"')), {
      timeoutMs: 15_000,
      intervalMs: 1,
    });
    process.kill(containerd.pid, "SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the 1 s budget of the call
    process.kill(containerd.pid, "SIGCONT");
    const res = await pruning;

    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatch(/did not answer within .*; re-reading containerd shows the lease was (not )?deleted/);
    const remaining = new Set((await client.listLeases("paused")).map((l) => l.id));
    const gone = ids.filter((id) => !remaining.has(id));
    const lines = deletes().map((l) => JSON.parse(l) as { lease: string; phase: string; outcome?: string; note?: string });
    const deleted = lines.filter((l) => l.outcome === "deleted").map((l) => l.lease);
    expect(deleted.sort()).toEqual(gone.sort()); // every deletion has its line, no line without a deletion
    const intents = lines.filter((l) => l.phase === "intent").map((l) => l.lease);
    expect(lines.filter((l) => l.phase === "outcome").map((l) => l.lease)).toEqual(intents);
    expect(lines.some((l) => l.note?.includes("unknown: timed out") === true)).toBe(true);
  }, 90_000);
});

describe("SIGTERM while a delete is waiting on containerd", () => {
  it("exits with an outcome line for every intent line", async () => {
    await app();
    const client = t!.runtime.client;
    const expire = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
    for (let i = 0; i < 60; i++) await client.createLease("stopping", `stopping-${i}`, { "containerd.io/gc.expire": expire });
    const exporter = await startExporter(
      [`--containerd.address=${containerd.socket}`, "--prune.confirm-window=0s", "--containerd.timeout=3s"],
      { ADMIN_TOKEN: TOKEN },
    );
    try {
      const lines = () => exporter.stderr().split("\n").filter((l) => l.includes('"audit":"lease-delete"'));
      const pruning = fetchPrune(exporter.base, TOKEN, { namespaces: ["stopping"], leaseStaleAfter: "0s" }).then((res) => res.status, () => "connection closed");
      await waitFor("the first delete", () => lines().some((l) => l.includes('"outcome":"deleted"')), { timeoutMs: 20_000, intervalMs: 1 });
      process.kill(containerd.pid, "SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 200));
      exporter.child.kill("SIGTERM");
      await exporter.exited;
      process.kill(containerd.pid, "SIGCONT");
      expect([502, 503, "connection closed"]).toContain(await pruning);
      const audit = lines().map((l) => JSON.parse(l) as { lease: string; phase: string; outcome?: string });
      const intents = audit.filter((l) => l.phase === "intent").map((l) => l.lease);
      expect(audit.filter((l) => l.phase === "outcome").map((l) => l.lease)).toEqual(intents);
      expect(audit.some((l) => l.outcome?.startsWith("unknown: the exporter stopped"))).toBe(true);
    } finally {
      await exporter.stop();
    }
  }, 90_000);
});
