import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  DASHBOARD_PATH,
  EMPTY_BY_DESIGN,
  EMPTY_MARKER,
  extractQueries,
  extractVariableQueries,
  groupingLabels,
  loadDashboard,
  matcherLabels,
  type Panel,
  panelsWithRows,
  regexFor,
  selectors,
  substitute,
} from "./queries.js";

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The metric contract: every metric the exporter exposes, with its labels (besides job and instance). */
const CONTRACT: ReadonlyMap<string, readonly string[]> = new Map([
  ["containerd_up", []],
  ["containerd_exporter_build_info", ["version", "revision", "branch", "nodeversion"]],
  ["containerd_info", ["version", "revision"]],
  ["containerd_scrape_collector_duration_seconds", ["collector"]],
  ["containerd_scrape_collector_success", ["collector"]],
  ["containerd_leases", ["namespace", "state", "owner"]],
  ["containerd_lease_oldest_created_timestamp_seconds", ["namespace", "state"]],
  ["containerd_content_blobs", ["namespace", "state"]],
  ["containerd_content_bytes", ["namespace", "state"]],
  ["containerd_ingests", ["namespace", "state"]],
  ["containerd_ingest_bytes", ["namespace", "state"]],
  ["containerd_ingest_oldest_updated_timestamp_seconds", ["namespace"]],
  ["containerd_snapshots", ["namespace", "snapshotter", "kind", "state"]],
  ["containerd_snapshot_bytes", ["namespace", "snapshotter", "state"]],
  ["containerd_store_bytes", ["resource"]],
  ["containerd_reclaimable_bytes", ["resource"]],
  ["containerd_lease_held_bytes", ["namespace", "lease", "state", "owner"]],
  ["containerd_prune_runs_total", ["result", "trigger"]],
  ["containerd_prune_reclaimed_bytes_total", ["trigger"]],
  ["containerd_prune_leases_deleted_total", ["trigger"]],
  ["containerd_prune_ingests_aborted_total", ["trigger"]],
  ["containerd_prune_last_success_timestamp_seconds", []],
  ["process_start_time_seconds", []],
]);
const METRICS: ReadonlySet<string> = new Set(CONTRACT.keys());
const TARGET_LABELS = ["job", "instance"];

const DS = { type: "prometheus", uid: "${datasource}" };
const text = readFileSync(DASHBOARD_PATH, "utf8");
const dashboard = loadDashboard();
const dataPanels = panelsWithRows(dashboard);
const variable = (name: string) => dashboard.templating.list.find((v) => v.name === name);

describe("dashboards/containerd-orphans.json", () => {
  it("is exactly what dashboards/build.mjs renders", async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, "dashboards/build.mjs"), "--stdout"], {
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(text === stdout, "dashboards/containerd-orphans.json is out of date: run `node dashboards/build.mjs`").toBe(
      true,
    );
  });

  it("is a provisionable classic dashboard with a fixed uid", () => {
    expect(dashboard.uid).toBe("containerd-orphans");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard).not.toHaveProperty("__inputs");
    expect(dashboard).not.toHaveProperty("__requires");
    expect(text).not.toContain("${DS_");
    expect(dashboard.id ?? null).toBeNull();
  });

  it("has a datasource variable and chained job, instance and namespace variables", () => {
    expect(variable("datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    const queries = Object.fromEntries(
      extractVariableQueries(dashboard, { job: "$job", instance: "$instance" }).map((q) => [q.name, q]),
    );
    // Substituting a variable with itself leaves the raw text: check the chaining on it.
    expect(queries.job?.label).toBe("job");
    expect(queries.instance?.label).toBe("instance");
    expect(queries.instance?.selector).toContain('job=~"$job"');
    expect(queries.namespace?.label).toBe("namespace");
    expect(queries.namespace?.selector).toContain('job=~"$job"');
    expect(queries.namespace?.selector).toContain('instance=~"$instance"');
    for (const q of Object.values(queries)) {
      for (const s of selectors(q.selector)) expect(METRICS, `${q.name}: ${s.metric}`).toContain(s.metric);
    }
    for (const name of ["job", "instance", "namespace"]) {
      expect(variable(name), name).toMatchObject({ type: "query", datasource: DS });
    }
    expect(variable("namespace")).toMatchObject({ multi: true, includeAll: true });
  });

  it("gives every panel the datasource variable, a description and a unit", () => {
    expect(dataPanels.length).toBeGreaterThan(0);
    for (const { panel } of dataPanels) {
      expect(panel.datasource, panel.title).toEqual(DS);
      expect(panel.description?.trim(), `${panel.title}: description`).toBeTruthy();
      const unit = panel.fieldConfig?.defaults?.unit;
      expect(typeof unit === "string" && unit !== "", `${panel.title}: fieldConfig.defaults.unit`).toBe(true);
      expect(panel.targets?.length, `${panel.title}: targets`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(DS);
    }
  });

  it("lays panels out on the 24-column grid without overlaps and with unique ids", () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = dashboard.panels.map((p: Panel) => p.gridPos);
    for (const [i, a] of boxes.entries()) {
      expect(a.x + a.w, dashboard.panels[i]!.title).toBeLessThanOrEqual(24);
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`).toBe(false);
      }
    }
  });

  it("has the rows the brief asks for, in order", () => {
    expect(dashboard.panels.filter((p) => p.type === "row").map((p) => p.title)).toEqual([
      "Overview",
      "Storage by state",
      "Leases",
      "Ingests (partial downloads)",
      "Prune",
      "Exporter health",
    ]);
    const metricsOfRow = (row: string) =>
      new Set(
        dataPanels
          .filter((p) => p.row === row)
          .flatMap(({ panel }) => (panel.targets ?? []).flatMap((t) => selectors(t.expr).map((s) => s.metric))),
      );
    const expected: Record<string, string[]> = {
      Overview: [
        "containerd_reclaimable_bytes",
        "containerd_store_bytes",
        "containerd_leases",
        "containerd_lease_oldest_created_timestamp_seconds",
        "containerd_up",
        "containerd_prune_last_success_timestamp_seconds",
      ],
      "Storage by state": ["containerd_content_bytes", "containerd_snapshot_bytes", "containerd_ingest_bytes"],
      Leases: ["containerd_leases", "containerd_lease_oldest_created_timestamp_seconds", "containerd_lease_held_bytes"],
      "Ingests (partial downloads)": [
        "containerd_ingests",
        "containerd_ingest_bytes",
        "containerd_ingest_oldest_updated_timestamp_seconds",
      ],
      Prune: ["containerd_prune_runs_total", "containerd_prune_reclaimed_bytes_total"],
      "Exporter health": ["containerd_scrape_collector_success", "containerd_scrape_collector_duration_seconds"],
    };
    for (const [row, metrics] of Object.entries(expected)) {
      for (const metric of metrics) expect(metricsOfRow(row), `${row} uses ${metric}`).toContain(metric);
    }
    const overview = dataPanels.filter((p) => p.row === "Overview").map((p) => p.panel);
    expect(overview.some((p) => p.type === "stat" && p.fieldConfig?.defaults?.unit === "bytes")).toBe(true);
    expect(overview.some((p) => p.fieldConfig?.defaults?.unit === "percentunit")).toBe(true);
    expect(dataPanels.some(({ panel }) => panel.type === "table" && panel.targets?.[0]?.expr.includes("containerd_lease_held_bytes"))).toBe(true);
    for (const metric of ["containerd_content_bytes", "containerd_snapshot_bytes", "containerd_ingest_bytes"]) {
      const stacked = dataPanels.some(
        ({ row, panel }) =>
          row === "Storage by state" &&
          panel.targets?.some((t) => t.expr.includes(metric) && /by \(state\)/.test(t.expr)) &&
          (panel.fieldConfig?.defaults as { custom?: { stacking?: { mode?: string } } })?.custom?.stacking?.mode ===
            "normal",
      );
      expect(stacked, `${metric} stacked by state`).toBe(true);
    }
  });

  describe("queries", () => {
    const targets = dataPanels.flatMap(({ panel }) => (panel.targets ?? []).map((target) => ({ panel, target })));

    it("select only metrics of the contract, each with $job and $instance, and $namespace where it has one", () => {
      for (const { panel, target } of targets) {
        const found = selectors(target.expr);
        expect(found.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const { metric, matchers } of found) {
          const where = `${panel.title}: ${metric} in ${target.expr}`;
          expect(METRICS, where).toContain(metric);
          expect(matchers, where).toContain('job=~"$job"');
          expect(matchers, where).toContain('instance=~"$instance"');
          if (CONTRACT.get(metric)?.includes("namespace")) expect(matchers, where).toContain('namespace=~"$namespace"');
        }
      }
    });

    it("use only labels their metrics have", () => {
      for (const { panel, target } of targets) {
        const found = selectors(target.expr);
        const labels = new Set([...TARGET_LABELS, ...found.flatMap((s) => CONTRACT.get(s.metric) ?? [])]);
        for (const label of groupingLabels(target.expr)) expect(labels, `${panel.title}: by (${label})`).toContain(label);
        for (const s of found) {
          for (const label of matcherLabels(s.matchers)) {
            expect([...TARGET_LABELS, ...(CONTRACT.get(s.metric) ?? [])], `${panel.title}: ${s.metric}{${label}}`).toContain(
              label,
            );
          }
        }
        for (const m of (panel.targets ?? []).map((t) => t.legendFormat ?? "").join(" ").matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
          expect(labels, `${panel.title}: legend {{${m[1]}}}`).toContain(m[1]);
        }
      }
    });

    it("use $__rate_interval for every range", () => {
      for (const { panel, target } of targets) {
        for (const m of target.expr.matchAll(/\[([^\]]*)\]/g)) {
          expect(m[1], `${panel.title}: ${target.expr}`).toBe("$__rate_interval");
        }
      }
    });

    it("show timestamps as an age in seconds or as dateTimeFromNow in milliseconds", () => {
      for (const { panel, target } of targets) {
        if (!/_timestamp_seconds\b/.test(target.expr)) continue;
        const unit = panel.fieldConfig?.defaults?.unit;
        const where = `${panel.title}: ${target.expr} (${unit})`;
        if (unit === "s") expect(target.expr, where).toMatch(/^time\(\) - /);
        else {
          expect(unit, where).toBe("dateTimeFromNow");
          expect(target.expr, where).toMatch(/\* 1000$/);
        }
      }
    });

    it("are valid PromQL (promtool check rules on them as recording rules)", async () => {
      const queries = extractQueries(dashboard, { job: "containerd-orphan-exporter", instance: ".*" });
      const dir = mkdtempSync(join(tmpdir(), "dashboard-queries-"));
      try {
        const file = join(dir, "queries.rules.yml");
        const rules = queries.map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(q.expr)}`);
        writeFileSync(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
        const result = await run("promtool", ["check", "rules", file]).catch((error: { stdout?: string; stderr?: string }) => {
          throw new Error(`promtool check rules failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
        });
        expect(result.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("queries.ts", () => {
    it("extracts every target, substituted, and marks the ones empty by design", () => {
      const queries = extractQueries(dashboard, {
        job: "containerd-orphan-exporter",
        instance: regexFor(["10.0.0.1:9977", "10.0.0.2:9977"]),
        namespace: regexFor(["moby", "k8s.io"]),
        rateInterval: "2m",
      });
      expect(queries).toHaveLength(dataPanels.reduce((n, { panel }) => n + (panel.targets?.length ?? 0), 0));
      for (const q of queries) {
        expect(q.expr, q.panel).not.toContain("$");
        expect(q.expr).toContain('job=~"containerd-orphan-exporter"');
        expect(q.expr).toContain('instance=~"(10\\\\.0\\\\.0\\\\.1:9977|10\\\\.0\\\\.0\\\\.2:9977)"');
      }
      const held = queries.find((q) => q.panel === "Stuck leases by held bytes");
      expect(held?.expr).toContain('namespace=~"(moby|k8s\\\\.io)"');
      expect(held?.instant).toBe(true);
      expect(held?.emptyWhen).toBeTruthy();
      const runs = queries.find((q) => q.panel === "Prune runs by result");
      expect(runs?.expr).toContain("[2m]");
      expect(runs?.emptyWhen).toBeUndefined();
    });

    it("lists exactly the panels whose description says they can be empty by design", () => {
      const described = dataPanels.filter(({ panel }) => panel.description?.includes(EMPTY_MARKER)).map(({ panel }) => panel.title);
      expect([...new Set(EMPTY_BY_DESIGN.map((e) => e.panel))].sort()).toEqual(described.sort());
      for (const e of EMPTY_BY_DESIGN) {
        const panel = dataPanels.find(({ panel }) => panel.title === e.panel)?.panel;
        expect(panel?.targets?.map((t) => t.refId), e.panel).toContain(e.refId);
      }
    });

    it("substitutes every variable syntax and refuses unknown ones", () => {
      const values = { job: "j", instance: "i", namespace: "n" };
      expect(substitute('x{job=~"$job",instance=~"${instance}",namespace=~"[[namespace]]"}[$__rate_interval]', values)).toBe(
        'x{job=~"j",instance=~"i",namespace=~"n"}[1m]',
      );
      expect(substitute('x{job=~"${job:regex}"}', values)).toBe('x{job=~"j"}');
      expect(() => substitute('x{pod=~"$pod"}', values)).toThrow(/\$pod/);
    });

    it("finds selectors, not functions, keywords, labels or durations", () => {
      expect(
        selectors(
          'time() - min by (state) (a{job=~"$job"}) or sum without () (b offset 1h) / on (x) group_left (y) c[5m] > 1e3',
        ),
      ).toEqual([
        { metric: "a", matchers: 'job=~"$job"' },
        { metric: "b", matchers: "" },
        { metric: "c", matchers: "" },
      ]);
    });
  });
});
