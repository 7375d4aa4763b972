import { INGEST_STATES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { scrapeGauge, setCountAndBytesByState } from "./gauge.js";

export const writeIngests: FamilyWriter = (registry, { classified }) => {
  const count = scrapeGauge(
    registry,
    "containerd_ingests",
    "Unfinished writes into the content store (partial downloads) by state.",
    ["namespace", "state"],
  );
  const bytes = scrapeGauge(
    registry,
    "containerd_ingest_bytes",
    "Bytes written so far by unfinished ingests, by state.",
    ["namespace", "state"],
  );
  const oldest = scrapeGauge(
    registry,
    "containerd_ingest_oldest_updated_timestamp_seconds",
    "Last write time of the ingest that has waited longest; absent when there is none.",
    ["namespace"],
  );
  for (const ns of classified.namespaces.filter((n) => n.complete)) {
    setCountAndBytesByState(count, bytes, { namespace: ns.name }, ns.ingests, INGEST_STATES, (i) => i.state, (i) => i.offset);
    if (ns.ingests.length > 0) oldest.set({ namespace: ns.name }, Math.min(...ns.ingests.map((i) => i.updatedAt)));
  }
};
