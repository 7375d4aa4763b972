import type { ClassifiedInventory, ClassifiedLease, ClassifiedNamespace } from "./classify.js";
import { STUCK_LEASE_STATES } from "./states.js";

/** Largest holders first; among equals the oldest, then by id, so that every listing agrees. */
const byHeldBytes = (a: ClassifiedLease, b: ClassifiedLease) =>
  b.heldBytes - a.heldBytes || a.createdAt - b.createdAt || a.id.localeCompare(b.id);

/** A namespace's leases in a stuck state, unsorted. */
const stuckIn = (ns: ClassifiedNamespace) => ns.leases.filter((l) => STUCK_LEASE_STATES.has(l.state));

/**
 * One namespace's stuck leases (stale, expired, leaked: data held for an
 * operation that is over), in the order every listing shows them: the
 * held-bytes series, `df`, the inventory API and the status page.
 */
export function stuckLeasesOf(ns: ClassifiedNamespace): ClassifiedLease[] {
  return stuckIn(ns).sort(byHeldBytes);
}

/** The stuck leases of every namespace read in full, with their namespace, largest holders first. */
export function stuckLeases(classified: ClassifiedInventory): { namespace: ClassifiedNamespace; lease: ClassifiedLease }[] {
  return classified.namespaces
    .filter((ns) => ns.complete)
    .flatMap((namespace) => stuckIn(namespace).map((lease) => ({ namespace, lease })))
    .sort((a, b) => byHeldBytes(a.lease, b.lease));
}
