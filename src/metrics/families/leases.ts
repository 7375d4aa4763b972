import { LEASE_STATES } from "../../inventory/states.js";
import { stuckLeasesOf } from "../../inventory/stuck.js";
import type { FamilyWriter } from "./family.js";
import { minBy, scrapeGauge } from "./gauge.js";

export const writeLeases: FamilyWriter = (registry, { classified, leaseDetailLimit }) => {
  const count = scrapeGauge(
    registry,
    "containerd_leases",
    "Leases by state and owner: active (an operation may still run), stale (old, its downloads idle), expired (past gc.expire, waiting for a GC run), leaked (never expires, no owner claims it), owned (never expires, kept on purpose by its owner).",
    ["namespace", "state", "owner"],
  );
  const oldest = scrapeGauge(
    registry,
    "containerd_lease_oldest_created_timestamp_seconds",
    "Creation time of the oldest lease in each state; absent when there is none.",
    ["namespace", "state"],
  );
  const held = scrapeGauge(
    registry,
    "containerd_lease_held_bytes",
    "Bytes a stale, expired or leaked lease holds that nothing outside leases needs; only the largest --metrics.lease-detail-limit such leases per namespace (owned and active leases never take a place).",
    ["namespace", "lease", "state", "owner"],
  );
  for (const ns of classified.namespaces.filter((n) => n.complete)) {
    // Every state of every owner present (0 allowed); `unknown`'s when there is no lease at all,
    // so each state always has a series and sum by (state) never goes absent.
    const counts = new Map<string, number>();
    for (const l of ns.leases) counts.set(`${l.owner} ${l.state}`, (counts.get(`${l.owner} ${l.state}`) ?? 0) + 1);
    const owners = new Set(ns.leases.length > 0 ? ns.leases.map((l) => l.owner) : ["unknown"]);
    for (const owner of owners) {
      for (const state of LEASE_STATES) count.set({ namespace: ns.name, state, owner }, counts.get(`${owner} ${state}`) ?? 0);
    }
    for (const [state, created] of minBy(ns.leases, (l) => l.state, (l) => l.createdAt)) {
      oldest.set({ namespace: ns.name, state }, created);
    }
    for (const lease of stuckLeasesOf(ns).slice(0, leaseDetailLimit)) {
      held.set({ namespace: ns.name, lease: lease.id, state: lease.state, owner: lease.owner }, lease.heldBytes);
    }
  }
};
