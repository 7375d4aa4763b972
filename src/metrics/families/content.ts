import { RESOURCE_STATES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { scrapeGauge, setCountAndBytesByState } from "./gauge.js";

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
    setCountAndBytesByState(blobs, bytes, { namespace: ns.name }, ns.content, RESOURCE_STATES, (b) => b.state, (b) => b.size);
  }
};
