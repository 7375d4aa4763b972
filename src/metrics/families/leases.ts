import { LEASE_STATES, STUCK_LEASE_STATES } from "../../inventory/states.js";
import type { FamilyWriter } from "./family.js";
import { countBy, minBy, scrapeGauge } from "./gauge.js";


export const writeLeases: FamilyWriter = (registry, { classified, leaseDetailLimit }) => {
  const count = scrapeGauge(
    registry,
    "containerd_leases",
    "Leases by state: active (an operation may still run), stale (old, its downloads idle), expired (past gc.expire, waiting for a GC run), permanent (never expires).",
    ["namespace", "state"],
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
    "Bytes a stale, expired or permanent lease holds that nothing outside leases needs; only the largest --metrics.lease-detail-limit leases per namespace.",
    ["namespace", "lease", "state"],
  );
  for (const ns of classified.namespaces.filter((n) => n.complete)) {
    const counts = countBy(ns.leases, LEASE_STATES, (l) => l.state);
    for (const state of LEASE_STATES) count.set({ namespace: ns.name, state }, counts[state]);
    for (const [state, created] of minBy(ns.leases, (l) => l.state, (l) => l.createdAt)) {
      oldest.set({ namespace: ns.name, state }, created);
    }
    const stuck = ns.leases
      .filter((l) => STUCK_LEASE_STATES.has(l.state))
      .sort((a, b) => b.heldBytes - a.heldBytes || a.id.localeCompare(b.id))
      .slice(0, leaseDetailLimit);
    for (const lease of stuck) held.set({ namespace: ns.name, lease: lease.id, state: lease.state }, lease.heldBytes);
  }
};
