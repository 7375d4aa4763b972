import {
  type ByResource,
  type ClassifiedInventory,
  type ClassifiedLease,
  type ClassifiedNamespace,
  predictFreed,
} from "../inventory/classify.js";
import type { Owner } from "../inventory/owners/index.js";
import { PRUNABLE_LEASE_STATES, type Refusal } from "../inventory/states.js";

/** A refusal (the lease is someone's, or takes what someone needs with it), or what the guard and the prune found. */
export type SkipReason =
  | Refusal
  | "in-flight"
  | "not-found"
  | "namespace-incomplete"
  | "lease-skipped"
  | "gone";

export interface LeaseCandidate {
  namespace: string;
  id: string;
  state: ClassifiedLease["state"];
  owner: Owner;
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
    owner: lease.owner,
    createdAt: lease.createdAt,
    labels: lease.labels,
    bytes: lease.heldBytes,
    explicit,
  };
}

/**
 * What a prune would touch, read from the same classification /metrics
 * reports: stale and expired leases, leases named in the request, and stale
 * ingests. Never an image, a container, a blob or a snapshot: containerd's GC
 * removes those once no lease holds them. A lease the classification refused
 * (a container's layer, a sandbox's, an owner's cache, one that would take an
 * image with it) is skipped with that reason, named or not.
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
      if (lease.refusal !== null) plan.skippedLeases.push({ ...candidate, reason: lease.refusal });
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

/**
 * What deleting these leases and aborting these ingests frees, by the rules
 * containerd_reclaimable_bytes uses: the dry run's and the report's
 * prediction, for exactly the request's namespaces, leases and skips.
 */
export function predictedBy(
  classified: ClassifiedInventory,
  leases: readonly { namespace: string; id: string }[],
  ingests: readonly { namespace: string; ref: string }[],
): ByResource {
  const key = (ns: string, id: string) => `${ns}\u0000${id}`;
  const deleted = new Set(leases.map((l) => key(l.namespace, l.id)));
  const aborted = new Set(ingests.map((i) => key(i.namespace, i.ref)));
  return predictFreed(classified, {
    leases: (ns, id) => deleted.has(key(ns, id)),
    ingests: (ns, ref) => aborted.has(key(ns, ref)),
  });
}
