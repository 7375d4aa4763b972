// The real exporter's /metrics on a real containerd with cut pulls, linted by `promtool check
// metrics` (Prometheus' own exposition linter: naming, units, _total on counters, HELP texts).
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, select } from "../support/exposition.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { promtool } from "../support/prometheus.js";
import { buildScene, type Scene } from "../support/scene.js";
import { fetchPrune } from "../support/prune-check.js";

const TOKEN = "e2e-promtool-token";

let scene: Scene | undefined;
let t: TestApp | undefined;
let base: string;

/** A scrape as Prometheus makes it: the text format, with its timeout header. */
async function scrape(): Promise<string> {
  const response = await fetch(`${base}/metrics`, {
    headers: { accept: "text/plain;version=0.0.4;q=1,*/*;q=0.1", "x-prometheus-scrape-timeout-seconds": "10" },
    signal: AbortSignal.timeout(15_000),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function lint(exposition: string): Promise<void> {
  const result = await promtool(["check", "metrics"], exposition);
  expect(
    { code: result.code, output: `${result.stdout}${result.stderr}`.trim() },
    "promtool check metrics found problems",
  ).toEqual({ code: 0, output: "" });
}

beforeAll(async () => {
  scene = await buildScene();
  t = await startTestApp(
    [`--containerd.address=${scene.lab.socket}`, "--lease.stale-after=1s", "--ingest.idle-after=1s", "--prune.confirm-window=1s"],
    { ADMIN_TOKEN: TOKEN },
  );
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  try {
    await t?.close();
  } finally {
    await scene?.stop();
  }
});

describe("promtool check metrics on the exporter's real /metrics", () => {
  it("reports no problem on a node with cut pulls, stuck leases and partial downloads", async () => {
    const text = await scrape();
    const samples = parseExposition(text);
    // The lint covered the state-dependent families too, not just an empty node.
    for (const name of [
      "containerd_lease_held_bytes",
      "containerd_lease_oldest_created_timestamp_seconds",
      "containerd_ingest_oldest_updated_timestamp_seconds",
      "containerd_snapshot_bytes",
      "containerd_reclaimable_bytes",
    ]) {
      expect(select(samples, name).length, name).toBeGreaterThan(0);
    }
    expect(select(samples, "containerd_up")[0]?.value).toBe(1);
    expect(select(samples, "containerd_scrape_collector_success").every((s) => s.value === 1)).toBe(true);
    await lint(text);
  });

  it("reports no problem after a prune (the last-success gauge and the prune counters move)", async () => {
    const response = await fetchPrune(base, TOKEN, { leaseStaleAfter: "0s", ingestIdleAfter: "0s" }, { signal: AbortSignal.timeout(30_000) });
    expect(response.status, await response.clone().text()).toBe(200);
    const text = await scrape();
    expect(select(parseExposition(text), "containerd_prune_last_success_timestamp_seconds")).toHaveLength(1);
    await lint(text);
  });

  it("makes promtool complain about a broken exposition (the check is live)", async () => {
    const result = await promtool(["check", "metrics"], "# HELP foo_seconds_total x\n# TYPE foo_seconds_total gauge\nfoo_seconds_total 1\n");
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/foo_seconds_total/);
  });
});
