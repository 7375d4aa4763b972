import type { FamilyWriter } from "./family.js";
import { scrapeGauge } from "./gauge.js";

/** containerd_up, build info and node_exporter's per-collector pair. */
export const writeHealth: FamilyWriter = (registry, { classified, exporterVersion }) => {
  const { inventory } = classified;
  scrapeGauge(registry, "containerd_up", "1 if containerd answered this scrape, 0 if it did not.").set(
    inventory.up ? 1 : 0,
  );
  scrapeGauge(
    registry,
    "containerd_exporter_build_info",
    "A constant 1, labelled with the exporter's version and the version of the containerd it reads (empty when containerd did not answer).",
    ["version", "containerd_version", "containerd_revision"],
  ).set(
    {
      version: exporterVersion,
      containerd_version: inventory.containerd?.version ?? "",
      containerd_revision: inventory.containerd?.revision ?? "",
    },
    1,
  );
  const duration = scrapeGauge(
    registry,
    "containerd_scrape_collector_duration_seconds",
    "Wall time a collector took during this scrape, across all namespaces.",
    ["collector"],
  );
  const success = scrapeGauge(
    registry,
    "containerd_scrape_collector_success",
    "1 if the collector read every namespace in this scrape, 0 if any call failed or ran out of the scrape's budget.",
    ["collector"],
  );
  for (const report of inventory.collectors) {
    duration.set({ collector: report.collector }, report.durationSeconds);
    success.set({ collector: report.collector }, report.success ? 1 : 0);
  }
};
