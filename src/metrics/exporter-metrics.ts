import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { type BuildInfo, buildInfo } from "../util/build-info.js";
import { FAMILY_WRITERS, type ScrapeResult } from "./families/index.js";

/** Who started a prune: POST /admin/prune, --prune.interval, or the `prune` command through --admin.url. */
export const PRUNE_TRIGGERS = ["http", "schedule", "cli"] as const;
export type PruneTrigger = (typeof PRUNE_TRIGGERS)[number];
const PRUNE_RESULTS = ["success", "failure", "dry_run"] as const;

/** The last prune this process ran, for the status page. */
export interface PruneRecord {
  trigger: PruneTrigger;
  result: (typeof PRUNE_RESULTS)[number];
  /** Epoch seconds. */
  finishedAt: number;
  reclaimedBytes: number;
  leasesDeleted: number;
  ingestsAborted: number;
  /** Why it failed. */
  error?: string;
}

export interface ExporterMetricsOptions {
  build?: BuildInfo;
  /** Triggers whose prune series start at 0; any other appears on its first run. */
  triggers?: readonly PruneTrigger[];
}

type Format = "text" | "openmetrics";

function newRegistry(format: Format): Registry {
  const registry = new Registry();
  if (format === "openmetrics") {
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as unknown as typeof Registry.PROMETHEUS_CONTENT_TYPE);
  }
  return registry;
}

/** prom-client names a few Node.js gauges `_total`, which promtool rightly rejects. */
function dropMisnamedGauges(registry: Registry): void {
  for (const metric of registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    if (type === "gauge" && name.endsWith("_total")) registry.removeSingleMetric(name);
  }
}

/**
 * The exporter's long-lived metrics (process, prune counters) plus, on each
 * scrape, a fresh registry with containerd's state. Both formats are kept
 * ready because prom-client only merges registries of the same content type.
 */
export class ExporterMetrics {
  private readonly registries: Record<Format, Registry> = {
    text: newRegistry("text"),
    openmetrics: newRegistry("openmetrics"),
  };
  readonly pruneRuns: Counter<"result" | "trigger">;
  readonly pruneReclaimedBytes: Counter<"trigger">;
  readonly pruneLeasesDeleted: Counter<"trigger">;
  readonly pruneIngestsAborted: Counter<"trigger">;
  /** Epoch seconds of the last successful prune; the gauge is absent until there is one. */
  lastPruneSuccess: number | undefined;
  /** The last prune of any trigger and result; undefined before the first. */
  lastPrune: PruneRecord | undefined;

  constructor(options: ExporterMetricsOptions = {}) {
    const registers = Object.values(this.registries);
    for (const register of registers) {
      collectDefaultMetrics({ register });
      dropMisnamedGauges(register);
    }
    const build = options.build ?? buildInfo();
    new Gauge({
      name: "containerd_exporter_build_info",
      help: "A constant 1, labelled with the exporter's version, git revision and branch, and the Node.js version it runs on.",
      labelNames: ["version", "revision", "branch", "nodeversion"],
      registers,
    }).set({ version: build.version, revision: build.revision, branch: build.branch, nodeversion: build.nodeVersion }, 1);
    const trigger = "http, schedule (--prune.interval) or cli (the prune command through --admin.url)";
    this.pruneRuns = new Counter({
      name: "containerd_prune_runs_total",
      help: `Prune runs by result (success, failure or dry_run) and trigger: ${trigger}.`,
      labelNames: ["result", "trigger"],
      registers,
    });
    this.pruneReclaimedBytes = new Counter({
      name: "containerd_prune_reclaimed_bytes_total",
      help: "Bytes prunes gave back: the objects present before and gone after, by trigger; a failed measurement counts nothing.",
      labelNames: ["trigger"],
      registers,
    });
    this.pruneLeasesDeleted = new Counter({
      name: "containerd_prune_leases_deleted_total",
      help: "Leases deleted by prunes, by trigger.",
      labelNames: ["trigger"],
      registers,
    });
    this.pruneIngestsAborted = new Counter({
      name: "containerd_prune_ingests_aborted_total",
      help: "Ingests (partial downloads) aborted by prunes, by trigger.",
      labelNames: ["trigger"],
      registers,
    });
    for (const t of options.triggers ?? ["http"]) this.startAtZero(t);
  }

  /** Every series of a trigger, at 0, so that increase() sees its first run. */
  private startAtZero(trigger: PruneTrigger): void {
    for (const result of PRUNE_RESULTS) this.pruneRuns.inc({ result, trigger }, 0);
    for (const counter of [this.pruneReclaimedBytes, this.pruneLeasesDeleted, this.pruneIngestsAborted]) counter.inc({ trigger }, 0);
  }

  /** Counts one finished prune (a failed one included) and keeps it for the status page. */
  recordPrune(record: Omit<PruneRecord, "finishedAt">): void {
    const { trigger } = record;
    this.pruneRuns.inc({ result: record.result, trigger });
    this.lastPrune = { ...record, finishedAt: Date.now() / 1000 };
    // Deletions happened whatever the run's result; bytes count only when they were measured.
    this.pruneLeasesDeleted.inc({ trigger }, record.leasesDeleted);
    this.pruneIngestsAborted.inc({ trigger }, record.ingestsAborted);
    if (record.result !== "success") return;
    this.pruneReclaimedBytes.inc({ trigger }, Math.max(0, record.reclaimedBytes));
    this.lastPruneSuccess = this.lastPrune.finishedAt;
  }

  /** Renders a scrape; OpenMetrics when the scraper asked for it. */
  async render(scrape: ScrapeResult, openMetrics: boolean): Promise<{ body: string; contentType: string }> {
    const format: Format = openMetrics ? "openmetrics" : "text";
    const perScrape = newRegistry(format);
    for (const write of FAMILY_WRITERS) write(perScrape, scrape);
    if (this.lastPruneSuccess !== undefined) {
      new Gauge({
        name: "containerd_prune_last_success_timestamp_seconds",
        help: "When the last successful prune finished; absent before the first one.",
        registers: [perScrape],
      }).set(this.lastPruneSuccess);
    }
    const merged = Registry.merge([perScrape, this.registries[format]]);
    return { body: await merged.metrics(), contentType: merged.contentType };
  }
}
