/** The vocabulary of classification: every state a lease, resource or ingest can be in. */
/**
 * active: an operation may still be running; stale: old enough and its
 * downloads idle; expired: past gc.expire, waiting for a GC run; owned: never
 * expires and an owner keeps it on purpose (a container's layer, BuildKit
 * cache, a sandbox, a k3s import); leaked: never expires and no owner claims it.
 */
export const LEASE_STATES = ["active", "stale", "expired", "leaked", "owned"] as const;
export type LeaseState = (typeof LEASE_STATES)[number];

/** Leases that hold data for an operation that is over: what "stuck leases" lists. Never owned ones. */
export const STUCK_LEASE_STATES: ReadonlySet<LeaseState> = new Set(["stale", "expired", "leaked"]);

/** Leases a prune deletes without being told their ids (leaked ones only when named). */
export const PRUNABLE_LEASE_STATES: ReadonlySet<LeaseState> = new Set(["stale", "expired"]);

/**
 * Why a prune will not delete a lease even when it is named: something an
 * image, a container, a sandbox or a live owner needs would go with it.
 */
export const REFUSALS = ["owned-by-container", "holds-container-snapshot", "owned-by-sandbox", "owned", "holds-image"] as const;
export type Refusal = (typeof REFUSALS)[number];

/** First match wins, in this order. */
export const RESOURCE_STATES = ["in_use", "pinned", "leased", "stale", "unreferenced"] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

export const INGEST_STATES = ["pinned", "leased", "stale"] as const;
export type IngestState = (typeof INGEST_STATES)[number];

/** Resource states whose bytes a prune under the current policy gives back. */
export const RECLAIMABLE_STATES: ReadonlySet<ResourceState> = new Set(["stale", "unreferenced"]);

export const STORE_RESOURCES = ["content", "snapshot", "ingest"] as const;
export type StoreResource = (typeof STORE_RESOURCES)[number];

export interface Policy {
  /** An expiring lease this old, holding no recently written ingest, is stale. */
  leaseStaleAfterMs: number;
  /** An ingest not written for this long is idle. */
  ingestIdleAfterMs: number;
}

export const DEFAULT_POLICY: Policy = { leaseStaleAfterMs: 3600_000, ingestIdleAfterMs: 600_000 };

/** containerd's well-known labels (metadata/gc.go, leases). */
export const LABEL = {
  expire: "containerd.io/gc.expire",
  flat: "containerd.io/gc.flat",
  root: "containerd.io/gc.root",
  refContent: "containerd.io/gc.ref.content",
  refSnapshot: "containerd.io/gc.ref.snapshot.",
  refImage: "containerd.io/gc.ref.image",
} as const;
