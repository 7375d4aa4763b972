import type { FamilyWriter } from "./family.js";
import { scrapeGauge } from "./gauge.js";

/**
 * containerd_up, containerd's own version and node_exporter's per-collector pair.
 * The exporter's build_info is long-lived (ExporterMetrics): it does not depend on containerd.
 */
export const writeHealth: FamilyWriter = (registry, { classified }) => {
  const { inventory } = classified;
  scrapeGauge(registry, "containerd_up", "1 if containerd answered this scrape, 0 if it did not.").set(
    inventory.up ? 1 : 0,
  );
  // Absent, not empty-labelled, while containerd does not answer: there is no version to tell.
  if (inventory.containerd) {
    scrapeGauge(registry, "containerd_info", "A constant 1, labelled with the version and revision of the containerd this exporter reads.", [
      "version",
      "revision",
    ]).set({ version: inventory.containerd.version, revision: inventory.containerd.revision }, 1);
  }
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
