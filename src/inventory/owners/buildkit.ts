import { LABEL } from "../states.js";
import type { LeaseEntry, NamespaceInventory } from "../types.js";
import type { OwnerRule } from "./owner.js";

export const BUILDKIT_TEMPORARY_LABEL = "buildkit/lease.temporary";
export const BUILDKIT_HISTORY_NAMESPACE = "moby_history";
/** The lease a cache record `<id>` keeps its blobs' other compressions under (moby/buildkit cache/refs.go). */
const VARIANTS_SUFFIX = "-variants";

/** Ids of the namespace's leases that carry gc.flat (BuildKit's cache records), computed once per read. */
const flatIds = new WeakMap<NamespaceInventory, ReadonlySet<string>>();
function flatLeaseIds(namespace: NamespaceInventory): ReadonlySet<string> {
  let ids = flatIds.get(namespace);
  if (!ids) flatIds.set(namespace, (ids = new Set(namespace.leases.filter((l) => LABEL.flat in l.labels).map((l) => l.id))));
  return ids;
}

/** `<id>-variants` beside a cache record `<id>`: created without labels, never expiring, deleted with the record. */
function isVariantsOfRecord(lease: LeaseEntry, namespace: NamespaceInventory): boolean {
  return lease.id.endsWith(VARIANTS_SUFFIX) && flatLeaseIds(namespace).has(lease.id.slice(0, -VARIANTS_SUFFIX.length));
}

/**
 * BuildKit's cache records and temporary leases. Evidence: moby/buildkit
 * cache/manager.go, cache/refs.go and util/leaseutil. A cache record's lease
 * `<id>` and its `<id>-view` carry `containerd.io/gc.flat` and never expire;
 * its `<id>-variants` carries no label at all (measured with Docker 28.5.2's
 * BuildKit through buildx 0.29.1), so it is recognised by its record;
 * `leaseutil.MakeTemporary` adds `buildkit/lease.temporary` with a 1 h or
 * 5 min expiry; build history lives in namespace `moby_history` (`ref_<id>`).
 */
export const buildkit: OwnerRule = {
  owner: "buildkit",
  keeps: true,
  matches: (lease, { namespace }) =>
    LABEL.flat in lease.labels ||
    BUILDKIT_TEMPORARY_LABEL in lease.labels ||
    namespace.name === BUILDKIT_HISTORY_NAMESPACE ||
    isVariantsOfRecord(lease, namespace),
};
