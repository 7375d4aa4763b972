import type { ClassifiedInventory, ClassifiedLease } from "./classify.js";
import { INGEST_STATES, LEASE_STATES, RECLAIMABLE_STATES, RESOURCE_STATES } from "./states.js";
import { stuckLeases } from "./stuck.js";

export interface UsageRow {
  namespace: string;
  resource: "content" | "snapshot" | "ingest" | "lease";
  state: string;
  /** Lease rows only: who made them (see src/inventory/owners). */
  owner?: string;
  count: number;
  bytes: number;
  reclaimableBytes: number;
}

export interface StuckLease {
  namespace: string;
  id: string;
  state: ClassifiedLease["state"];
  owner: ClassifiedLease["owner"];
  createdAt: number;
  expiresAt: number | null;
  /** Labels that say who made it (Docker, BuildKit, k3s...) and the gc labels. */
  labels: Record<string, string>;
  heldBytes: number;
  /** Why a prune will not delete it even when named; null when it may go. */
  refusal: ClassifiedLease["refusal"];
}

export interface DfReport {
  readAt: number;
  up: boolean;
  containerd: { version: string; revision: string } | null;
  policy: { leaseStaleAfterSeconds: number; ingestIdleAfterSeconds: number };
  store: ClassifiedInventory["store"];
  reclaimable: ClassifiedInventory["reclaimable"];
  incompleteNamespaces: string[];
  rows: UsageRow[];
  stuckLeases: StuckLease[];
  collectors: ClassifiedInventory["inventory"]["collectors"];
}

function rowsOf<T extends { state: string }>(
  namespace: string,
  resource: UsageRow["resource"],
  items: readonly T[],
  states: readonly string[],
  bytes: (item: T) => number,
  reclaimable: (item: T) => boolean,
): UsageRow[] {
  return states.map((state) => {
    const inState = items.filter((i) => i.state === state);
    const total = inState.reduce((sum, i) => sum + bytes(i), 0);
    const free = inState.filter(reclaimable).reduce((sum, i) => sum + bytes(i), 0);
    return { namespace, resource, state, count: inState.length, bytes: total, reclaimableBytes: free };
  });
}

/** Lease rows per owner present (`unknown` when there is none), every state of each: what containerd_leases counts. */
function leaseRows(ns: ClassifiedInventory["namespaces"][number]): UsageRow[] {
  const owners = new Set<string>(ns.leases.length > 0 ? ns.leases.map((l) => l.owner) : ["unknown"]);
  return [...owners].flatMap((owner) =>
    rowsOf(ns.name, "lease", ns.leases.filter((l) => l.owner === owner), LEASE_STATES, (l) => l.heldBytes, () => false).map(
      (row) => ({ ...row, owner }),
    ),
  );
}

/** What `df`, `df --json` and GET /api/v1/inventory show: the classified state, summed. */
export function dfReport(classified: ClassifiedInventory): DfReport {
  const { inventory } = classified;
  const complete = classified.namespaces.filter((ns) => ns.complete);
  const rows = complete.flatMap((ns) => [
    ...leaseRows(ns),
    ...rowsOf(ns.name, "content", ns.content, RESOURCE_STATES, (b) => b.size, (b) => RECLAIMABLE_STATES.has(b.state)),
    ...rowsOf(ns.name, "snapshot", ns.snapshots, RESOURCE_STATES, (s) => s.usage?.size ?? 0, (s) =>
      RECLAIMABLE_STATES.has(s.state),
    ),
    ...rowsOf(ns.name, "ingest", ns.ingests, INGEST_STATES, (i) => i.offset, (i) => i.state === "stale"),
  ]);
  const stuck = stuckLeases(classified).map(({ namespace, lease: l }) => ({
    namespace: namespace.name,
    id: l.id,
    state: l.state,
    owner: l.owner,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    labels: l.labels,
    heldBytes: l.heldBytes,
    refusal: l.refusal,
  }));
  return {
    readAt: inventory.readAt,
    up: inventory.up,
    containerd: inventory.containerd,
    policy: {
      leaseStaleAfterSeconds: classified.policy.leaseStaleAfterMs / 1000,
      ingestIdleAfterSeconds: classified.policy.ingestIdleAfterMs / 1000,
    },
    store: classified.store,
    reclaimable: classified.reclaimable,
    incompleteNamespaces: classified.namespaces.filter((ns) => !ns.complete).map((ns) => ns.name),
    rows,
    stuckLeases: stuck,
    collectors: inventory.collectors,
  };
}
