import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerdVersion } from "../lab/runtimes.js";
import { pushImage } from "../lab/images.js";
import { startLab, type Lab } from "../lab/lab.js";
import { cancelledUnpack, completePull, createContainer, createLease } from "../lab/scenarios.js";
import { startTestApp, type TestApp } from "../support/app.js";

// node_exporter's habit: a golden /metrics from a fixed scenario, diffed on every run. What
// legitimately varies between runs (times, durations, versions, random lease ids, filesystem
// block counts) is replaced by a placeholder; names, HELP, labels and counts are compared as is.
// Regenerate after an intended change with: UPDATE_GOLDEN=1 npx vitest run test/integration/golden.test.ts
const FIXTURE = new URL("../fixtures/metrics.golden.txt", import.meta.url).pathname;

const VARYING_VALUE = [
  /_timestamp_seconds\{/,
  /^containerd_scrape_collector_duration_seconds/,
  /^containerd_snapshot_bytes\{/,
  /^containerd_store_bytes\{resource="snapshot"\}/,
  /^containerd_reclaimable_bytes\{resource="snapshot"\}/,
  /^containerd_lease_held_bytes\{/,
];

export function normalise(body: string): string {
  return body
    .split("\n")
    .filter((line) => !/^(# (HELP|TYPE) )?(process_|nodejs_)/.test(line))
    .map((line) =>
      line
        .replace(/containerd_version="[^"]*"/, 'containerd_version="<version>"')
        .replace(/containerd_revision="[^"]*"/, 'containerd_revision="<revision>"')
        .replace(/,version="[^"]*"/, ',version="<version>"')
        // build_info{version,revision,branch,nodeversion} and containerd_info{version,revision}
        .replace(/^(containerd_exporter_build_info|containerd_info)\{version="[^"]*"/, '$1{version="<version>"')
        .replace(/([{,])revision="[^"]*"/, '$1revision="<revision>"')
        .replace(/,branch="[^"]*"/, ',branch="<branch>"')
        .replace(/,nodeversion="[^"]*"/, ',nodeversion="<nodeversion>"')
        .replace(/lease="\d{6,}-[^"]+"/, 'lease="<random id>"'),
    )
    .map((line) => (VARYING_VALUE.some((re) => re.test(line)) ? line.replace(/ \S+$/, " <value>") : line))
    .join("\n");
}

// The snapshotters each containerd build loads on this machine (the rest report an init error
// and are skipped). /metrics names only those that hold something in some namespace (an idle
// one emits no all-zero series), so the fixture is the same on every version: overlayfs, which
// the scenario uses. Which ones loaded is checked against the reader's own list.
const LOADED_SNAPSHOTTERS: Record<ContainerdVersion, string[]> = {
  "1.6.20": ["native", "overlayfs"],
  "1.7.24": ["native", "overlayfs"],
  "2.1.9": ["erofs", "native", "overlayfs"],
};

function snapshottersIn(body: string): string[] {
  return [...new Set([...body.matchAll(/snapshotter="([^"]+)"/g)].map((m) => m[1]!))].sort();
}

let lab: Lab;
let t: TestApp;

beforeAll(async () => {
  lab = await startLab();
  const app = await pushImage(lab, { repo: "golden-app", tag: "1", seed: "golden-app", layers: [{ size: 1 << 20 }] });
  const cut = await pushImage(lab, {
    repo: "golden-cut",
    tag: "1",
    seed: "golden-cut",
    layers: [{ size: 1 << 20 }, { size: 2 << 20, gated: true }],
  });
  await completePull(lab, "golden-app", app);
  await createContainer(lab, "golden-app", app.ref, "web");
  await cancelledUnpack(lab, "golden-cut", cut);
  await createLease(lab, "golden-keep", { id: "forever", expiresIn: null, labels: { owner: "golden" } });
  t = await startTestApp([`--containerd.address=${lab.socket}`, "--lease.stale-after=0s"]);
}, 120_000);

afterAll(async () => {
  await t?.close();
  await lab?.stop();
});

describe("golden /metrics", () => {
  it("matches the fixture", async () => {
    const res = await t.app.inject({ url: "/metrics" });
    expect(res.statusCode).toBe(200);
    const inventory = await t.runtime.reader.read(Date.now() + 10_000);
    expect([...inventory.snapshotters].sort()).toEqual(LOADED_SNAPSHOTTERS[lab.info().containerdVersion]);
    expect(snapshottersIn(res.body)).toEqual(["overlayfs"]);
    const actual = normalise(res.body);
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(FIXTURE)) writeFileSync(FIXTURE, actual);
    expect(actual).toBe(readFileSync(FIXTURE, "utf8"));
  });
});
