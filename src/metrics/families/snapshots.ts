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
  const complete = classified.namespaces.filter((n) => n.complete);
  // Zeros only for snapshotters that hold something in some namespace: a loaded but unused
  // one (native, erofs on most hosts) would otherwise add 20 all-zero series per namespace.
  const used = new Set(complete.flatMap((ns) => ns.snapshots.map((s) => s.snapshotter)));
  const snapshotters = classified.inventory.snapshotters.filter((s) => used.has(s));
  for (const ns of complete) {
    for (const snapshotter of snapshotters) {
      for (const state of RESOURCE_STATES) {
        bytes.set({ namespace: ns.name, snapshotter, state }, 0);
        for (const kind of KINDS) count.set({ namespace: ns.name, snapshotter, kind, state }, 0);
      }
    }
    // Summed here first: one prom-client update per label set, not one per snapshot.
    const counts = new Map<string, { labels: { namespace: string; snapshotter: string; kind: string; state: string }; value: number }>();
    const sizes = new Map<string, { labels: { namespace: string; snapshotter: string; state: string }; value: number }>();
    for (const snap of ns.snapshots) {
      if (snap.kind !== "unknown") {
        const key = `${snap.snapshotter}\u0000${snap.kind}\u0000${snap.state}`;
        const entry = counts.get(key);
        if (entry) entry.value += 1;
        else counts.set(key, { labels: { namespace: ns.name, snapshotter: snap.snapshotter, kind: snap.kind, state: snap.state }, value: 1 });
      }
      const key = `${snap.snapshotter}\u0000${snap.state}`;
      const size = snap.usage?.size ?? 0;
      const entry = sizes.get(key);
      if (entry) entry.value += size;
      else sizes.set(key, { labels: { namespace: ns.name, snapshotter: snap.snapshotter, state: snap.state }, value: size });
    }
    for (const { labels, value } of counts.values()) count.inc(labels, value);
    for (const { labels, value } of sizes.values()) bytes.inc(labels, value);
  }
};
