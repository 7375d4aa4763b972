import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { FAMILY_WRITERS, type ScrapeResult } from "./families/index.js";

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
  readonly pruneRuns: Counter<"result">;
  readonly pruneReclaimedBytes: Counter;
  readonly pruneLeasesDeleted: Counter;
  readonly pruneIngestsAborted: Counter;
  /** Epoch seconds of the last successful prune; the gauge is absent until there is one. */
  lastPruneSuccess: number | undefined;

  constructor() {
    const registers = Object.values(this.registries);
    for (const register of registers) {
      collectDefaultMetrics({ register });
      dropMisnamedGauges(register);
    }
    this.pruneRuns = new Counter({
      name: "containerd_prune_runs_total",
      help: "Prune runs by result: success, failure or dry_run.",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["success", "failure", "dry_run"]) this.pruneRuns.inc({ result }, 0);
    this.pruneReclaimedBytes = new Counter({
      name: "containerd_prune_reclaimed_bytes_total",
      help: "Bytes prunes gave back: the objects present before and gone after; a failed measurement counts nothing.",
      registers,
    });
    this.pruneLeasesDeleted = new Counter({
      name: "containerd_prune_leases_deleted_total",
      help: "Leases deleted by prunes.",
      registers,
    });
    this.pruneIngestsAborted = new Counter({
      name: "containerd_prune_ingests_aborted_total",
      help: "Ingests (partial downloads) aborted by prunes.",
      registers,
    });
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
