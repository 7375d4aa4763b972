import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onExit } from "../lab/cleanup.js";
import { startContainerd, type Containerd } from "../lab/containerd.js";
import { waitFor } from "../lab/wait.js";
import { parseExposition, sample } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";

// The real daemon, killed while a scrape is in the middle of its calls, then started again on
// the same socket: the scrape in flight reports the failure, the next one after the restart
// succeeds without restarting the exporter.
let containerd: Containerd;
let dir: string;
let t: TestApp;

beforeAll(async () => {
  mkdirSync(join(process.cwd(), ".lab"), { recursive: true });
  dir = mkdtempSync(join(process.cwd(), ".lab", "killed-"));
  const removeDir = dir;
  onExit(() => rmSync(removeDir, { recursive: true, force: true })); // even if afterAll never runs
  containerd = await startContainerd({ dir });
  t = await startTestApp([`--containerd.address=${containerd.socket}`]);
  // Enough leases that a scrape spends a while in its per-lease ListResources calls.
  await Promise.all(
    Array.from({ length: 400 }, (_, i) => t.runtime.client.createLease("busy", `lease-${i}`, {})),
  );
}, 60_000);

afterAll(async () => {
  try {
    await t?.close();
    await containerd?.stop();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

const scrape = async () => parseExposition((await t.app.inject({ url: "/metrics" })).body);

describe("containerd killed mid-scrape", () => {
  it("reports the failure of the scrape in flight and recovers on the next one after the restart", async () => {
    expect(sample(await scrape(), "containerd_leases", { namespace: "busy", state: "leaked" })).toBe(400);

    const calls = t.runtime.client.callCounts;
    const before = calls.get("Leases/ListResources") ?? 0;
    const inFlight = scrape();
    await waitFor("the scrape to be in its ListResources calls", () => (calls.get("Leases/ListResources") ?? 0) > before, {
      timeoutMs: 10_000,
      intervalMs: 1,
    });
    const restarted = containerd.restart({ crash: true });
    const failed = await inFlight;
    expect(sample(failed, "containerd_scrape_collector_success", { collector: "leases" })).toBe(0);
    await restarted;

    const started = Date.now();
    const recovered = await waitFor(
      "a successful scrape after the restart",
      async () => {
        const samples = await scrape();
        return sample(samples, "containerd_up") === 1 &&
          sample(samples, "containerd_scrape_collector_success", { collector: "leases" }) === 1
          ? samples
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    // grpc's default reconnect backoff would leave us waiting up to two minutes.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sample(recovered, "containerd_leases", { namespace: "busy", state: "leaked" })).toBe(400);
  });
});
