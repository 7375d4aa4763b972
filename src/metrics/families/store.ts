import { STORE_RESOURCES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { scrapeGauge } from "./gauge.js";

export const writeStore: FamilyWriter = (registry, { classified }) => {
  const store = scrapeGauge(
    registry,
    "containerd_store_bytes",
    "Bytes on this node's disk by resource (content, snapshot, ingest); a blob shared by namespaces counts once.",
    ["resource"],
  );
  const reclaimable = scrapeGauge(
    registry,
    "containerd_reclaimable_bytes",
    "Bytes a prune under the current policy would free on this node: stale and unreferenced data, each blob once.",
    ["resource"],
  );
  // While containerd does not answer nothing is known about the disk: the series are absent
  // rather than 0, so that alerts on them neither fire nor resolve during an outage.
  if (!classified.inventory.up) return;
  for (const resource of STORE_RESOURCES) {
    store.set({ resource }, classified.store[resource]);
    reclaimable.set({ resource }, classified.reclaimable[resource]);
  }
};
