import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { pushImage } from "../lab/images.js";
import { listLeases } from "../lab/inspect.js";
import { type CancelledDownload, cancelledDownload, uniqueNamespace } from "../lab/scenarios.js";
import { waitFor } from "../lab/wait.js";
import { lines, parseLogfmt, type Server, startServer } from "../support/cli.js";
import { parseExposition, sample, select } from "../support/exposition.js";

// --prune.interval on the real daemon: the exporter deletes a cut pull's stale lease by itself,
// counts the run as trigger="schedule", and leaves things alone below --prune.min-reclaimable.
const lab = inject("lab");
const servers: Server[] = [];

async function cutPull(prefix: string): Promise<CancelledDownload> {
  const ns = uniqueNamespace(prefix);
  const image = await pushImage(lab, { repo: `schedule-${ns}`, tag: "1", layers: [{ size: 3 << 20 }] });
  return cancelledDownload(lab, ns, image);
}

const scheduled = (cut: CancelledDownload, minimum: string) => [
  `--containerd.address=${lab.socket}`,
  `--containerd.namespaces=${cut.namespace}`,
  "--lease.stale-after=0s",
  "--ingest.idle-after=0s",
  "--prune.confirm-window=0s",
  "--prune.interval=1s",
  `--prune.min-reclaimable=${minimum}`,
];

const metricsOf = async (server: Server) => parseExposition(await (await fetch(`${server.base}/metrics`)).text());

let pruned: CancelledDownload;
let kept: CancelledDownload;

beforeAll(async () => {
  pruned = await cutPull("sched-on");
  kept = await cutPull("sched-min");
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe("scheduled prune", () => {
  it("deletes a stale lease on its own and counts the run as trigger=schedule", async () => {
    expect(await listLeases(lab, pruned.namespace)).toHaveLength(1);
    const server = await startServer(scheduled(pruned, "1KiB"));
    servers.push(server);
    await waitFor("the scheduled prune to delete the lease", async () => (await listLeases(lab, pruned.namespace)).length === 0, {
      timeoutMs: 30_000,
      describe: () => server.log(),
    });
    // The run is counted once it has measured the store again, a moment after the delete.
    const runsOf = (m: Awaited<ReturnType<typeof metricsOf>>) =>
      select(m, "containerd_prune_runs_total").filter((s) => s.labels.trigger === "schedule" && s.labels.result !== "dry_run");
    await waitFor("the scheduled prune to be counted", async () => runsOf(await metricsOf(server)).some((s) => s.value > 0), {
      timeoutMs: 30_000,
      describe: () => server.log(),
    });
    const metrics = await metricsOf(server);
    expect(sample(metrics, "containerd_prune_runs_total", { result: "success", trigger: "schedule" })).toBeGreaterThanOrEqual(1);
    expect(sample(metrics, "containerd_prune_leases_deleted_total", { trigger: "schedule" })).toBe(1);
    expect(sample(metrics, "containerd_prune_reclaimed_bytes_total", { trigger: "schedule" })).toBeGreaterThan(0);
    expect(sample(metrics, "containerd_prune_runs_total", { result: "success", trigger: "http" })).toBe(0);
    expect(sample(metrics, "containerd_reclaimable_bytes", { resource: "ingest" })).toBe(0);
    const log = lines(server.log()).map(parseLogfmt);
    expect(log.find((l) => l.audit === "lease-delete" && l.outcome === "deleted")).toMatchObject({ lease: pruned.leases[0]?.id, client: "schedule" });
    expect(log.find((l) => l.msg?.startsWith("scheduled prune reclaimed"))).toMatchObject({ level: "info", trigger: "schedule", leases: "1" });
    expect(log.find((l) => l.msg === "containerd-orphan-exporter started")).toMatchObject({ prune_interval: "1s", prune_min_reclaimable: "1.0 KiB" });
    // The status page tells the same.
    const page = await (await fetch(`${server.base}/`)).text();
    expect(page).toMatch(/by schedule: <strong>success<\/strong>, reclaimed/);
    expect(page).toContain("every 1s when at least 1.0 KiB is reclaimable");
  });

  it("only looks while less than --prune.min-reclaimable is reclaimable", async () => {
    const server = await startServer(scheduled(kept, "1TiB"));
    servers.push(server);
    // Several intervals: each run reads containerd and decides not to prune.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await listLeases(lab, kept.namespace)).toHaveLength(1);
    const metrics = await metricsOf(server);
    expect(sample(metrics, "containerd_reclaimable_bytes", { resource: "ingest" })).toBeGreaterThan(0);
    expect(select(metrics, "containerd_prune_runs_total", { trigger: "schedule" }).map((s) => s.value)).toEqual([0, 0, 0]);
  });
});
