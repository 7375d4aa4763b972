import { RESOURCE_STATES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { scrapeGauge } from "./gauge.js";

const KINDS = ["active", "committed", "view"] as const;

export const writeSnapshots: FamilyWriter = (registry, { classified }) => {
  const count = scrapeGauge(
    registry,
    "containerd_snapshots",
    "Snapshots by snapshotter, kind (active: being written, e.g. an unpack or a container's layer; committed; view) and state.",
    ["namespace", "snapshotter", "kind", "state"],
  );
  const bytes = scrapeGauge(
    registry,
    "containerd_snapshot_bytes",
    "Disk usage of snapshots by state, as containerd's Usage call reports it.",
    ["namespace", "snapshotter", "state"],
  );
  const snapshotters = classified.inventory.snapshotters;
  for (const ns of classified.namespaces.filter((n) => n.complete)) {
    for (const snapshotter of snapshotters) {
      for (const state of RESOURCE_STATES) {
        bytes.set({ namespace: ns.name, snapshotter, state }, 0);
        for (const kind of KINDS) count.set({ namespace: ns.name, snapshotter, kind, state }, 0);
      }
    }
    for (const snap of ns.snapshots) {
      if (snap.kind !== "unknown") count.inc({ namespace: ns.name, snapshotter: snap.snapshotter, kind: snap.kind, state: snap.state });
      bytes.inc({ namespace: ns.name, snapshotter: snap.snapshotter, state: snap.state }, snap.usage?.size ?? 0);
    }
  }
};
