// The benchmark end to end on the smoke profile: a lab of its own, the seeder, the floor, the
// exporter as a process, the classification micro-benchmark and the report. Asserts that the
// bench produced sane numbers, never how fast anything was.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runBench } from "../../bench/run.js";

const dir = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bench smoke profile", () => {
  it("seeds, scrapes, measures the floor and writes a report", async () => {
    const markdown = join(dir, "BENCHMARKS.md");
    const { profiles, classification } = await runBench({
      profiles: ["smoke"],
      warm: 5,
      rounds: 1,
      soakSeconds: 0,
      runtime: "tsx",
      resultsDir: dir,
      markdown,
      classifySizes: [1000, 2000],
      command: "vitest test/bench/smoke.test.ts",
    });
    const result = profiles[0]!;
    const { seed, summary, floorRuns, exporterRounds, inProcess } = result;

    // The seeder put in what it planned, and containerd's GC took none of it.
    expect(seed.warnings).toEqual([]);
    expect(seed.present.blobs).toBe(seed.planned.blobs);
    expect(seed.present.snapshots).toBeGreaterThan(0);
    expect(seed.present.leases).toBe(seed.planned.leases);

    // The exporter scraped, completely, and exposed series.
    expect(exporterRounds[0]!.warmMs).toHaveLength(5);
    expect(summary.exporter.coldMs).toBeGreaterThan(0);
    expect(summary.exporter.warmMedianMs).toBeGreaterThan(0);
    expect(summary.exporter.series).toBeGreaterThan(0);
    expect(summary.exporter.bodyKb).toBeGreaterThan(0);
    expect(summary.exporter.incompleteScrapes).toBe(0);
    expect(summary.exporter.peakRssMb).toBeGreaterThan(0);

    // The floor was measured on the same data.
    expect(floorRuns).toHaveLength(1);
    expect(floorRuns[0]!.warmMs).toHaveLength(5);
    expect(summary.floor.coldMs).toBeGreaterThan(0);
    expect(summary.floor.warmMedianMs).toBeGreaterThan(0);
    expect(floorRuns[0]!.coldCalls["Leases/ListResources"]).toBe(seed.present.leases);

    // Call counts: one pass for ten scrapes, committed usage read once.
    expect(inProcess.cold.calls["Namespaces/List"]).toBe(1);
    expect(summary.coalescing.namespacesListConcurrent10).toBe(1);
    expect(summary.usageOnce.ok).toBe(true);
    expect(summary.usageOnce.warmUsageCalls).toBe(seed.present.activeSnapshots);

    expect(classification?.rows).toHaveLength(2);
    expect(classification!.rows[0]!.classifyMs).toBeGreaterThan(0);
    const report = readFileSync(markdown, "utf8");
    expect(report).toContain("## Profile `smoke`");
    expect(report).toContain("## Classification micro-benchmark");
  }, 90_000);
});
