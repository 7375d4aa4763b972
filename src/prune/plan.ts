import type { ClassifiedInventory, ClassifiedLease, ClassifiedNamespace } from "../inventory/classify.js";
import { PRUNABLE_LEASE_STATES } from "../inventory/states.js";

export type SkipReason =
  | "in-flight"
  | "holds-container-snapshot"
  | "not-found"
  | "namespace-incomplete"
  | "lease-skipped"
  | "gone";

export interface LeaseCandidate {
  namespace: string;
  id: string;
  state: ClassifiedLease["state"];
  createdAt: number;
  labels: Record<string, string>;
  bytes: number;
  /** Named in the request rather than found stale. */
  explicit: boolean;
}

export interface IngestCandidate {
  namespace: string;
  ref: string;
  bytes: number;
  updatedAt: number;
  /** Leases holding it; if one of them is kept, the ingest is kept too. */
  leases: string[];
}

export type Skipped<T> = T & { reason: SkipReason };

export interface PrunePlan {
  leases: LeaseCandidate[];
  ingests: IngestCandidate[];
  skippedLeases: Skipped<Partial<LeaseCandidate> & { namespace: string; id: string }>[];
  skippedNamespaces: string[];
}

export interface PlanRequest {
  /** Only these namespaces; all when empty or absent. */
  namespaces?: string[];
  /** Lease ids to delete even when they are not stale. */
  leases?: string[];
  abortIngests: boolean;
}

function candidateOf(ns: ClassifiedNamespace, lease: ClassifiedLease, explicit: boolean): LeaseCandidate {
  return {
    namespace: ns.name,
    id: lease.id,
    state: lease.state,
    createdAt: lease.createdAt,
    labels: lease.labels,
    bytes: lease.heldBytes,
    explicit,
  };
}

/** Snapshots of existing containers: a lease that holds one is never deleted, even when named. */
function holdsContainerSnapshot(ns: ClassifiedNamespace, lease: ClassifiedLease): boolean {
  const containerSnapshots = new Set(ns.containers.map((c) => `snapshots/${c.snapshotter}\u0000${c.snapshotKey}`));
  return lease.resources.some((r) => containerSnapshots.has(`${r.type}\u0000${r.id}`));
}

/**
 * What a prune would touch, read from the same classification /metrics
 * reports: stale and expired leases, leases named in the request, and stale
 * ingests. Never an image, a container, a blob or a snapshot: containerd's GC
 * removes those once no lease holds them.
 */
export function planPrune(classified: ClassifiedInventory, request: PlanRequest): PrunePlan {
  const wanted = request.namespaces?.length ? new Set(request.namespaces) : undefined;
  const named = new Set(request.leases ?? []);
  const plan: PrunePlan = { leases: [], ingests: [], skippedLeases: [], skippedNamespaces: [] };
  const found = new Set<string>();
  for (const ns of classified.namespaces) {
    if (wanted && !wanted.has(ns.name)) continue;
    if (!ns.complete) {
      plan.skippedNamespaces.push(ns.name);
      continue;
    }
    for (const lease of ns.leases) {
      const explicit = named.has(lease.id);
      if (explicit) found.add(lease.id);
      if (!explicit && !PRUNABLE_LEASE_STATES.has(lease.state)) continue;
      const candidate = candidateOf(ns, lease, explicit);
      if (holdsContainerSnapshot(ns, lease)) plan.skippedLeases.push({ ...candidate, reason: "holds-container-snapshot" });
      else plan.leases.push(candidate);
    }
    if (!request.abortIngests) continue;
    for (const ingest of ns.ingests.filter((i) => i.state === "stale")) {
      plan.ingests.push({
        namespace: ns.name,
        ref: ingest.ref,
        bytes: ingest.offset,
        updatedAt: ingest.updatedAt,
        leases: ingest.leases,
      });
    }
  }
  for (const id of named) {
    if (!found.has(id)) plan.skippedLeases.push({ namespace: "", id, reason: "not-found" });
  }
  return plan;
}
