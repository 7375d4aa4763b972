import { RESOURCE_STATES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { countBy, scrapeGauge } from "./gauge.js";

const SHARED = "A blob shared by several namespaces counts in each, so sums over namespaces overstate disk use; containerd_store_bytes counts it once.";

export const writeContent: FamilyWriter = (registry, { classified }) => {
  const blobs = scrapeGauge(registry, "containerd_content_blobs", `Content blobs by state. ${SHARED}`, [
    "namespace",
    "state",
  ]);
  const bytes = scrapeGauge(registry, "containerd_content_bytes", `Bytes of content blobs by state. ${SHARED}`, [
    "namespace",
    "state",
  ]);
  for (const ns of classified.namespaces.filter((n) => n.complete)) {
    const counts = countBy(ns.content, RESOURCE_STATES, (b) => b.state);
    const sizes = countBy(ns.content, RESOURCE_STATES, (b) => b.state, (b) => b.size);
    for (const state of RESOURCE_STATES) {
      blobs.set({ namespace: ns.name, state }, counts[state]);
      bytes.set({ namespace: ns.name, state }, sizes[state]);
    }
  }
};
