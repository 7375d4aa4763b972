/** The vocabulary of classification: every state a lease, resource or ingest can be in. */
export const LEASE_STATES = ["active", "stale", "expired", "permanent"] as const;
export type LeaseState = (typeof LEASE_STATES)[number];

/** Leases that hold data for an operation that is over (or never ends): what "stuck leases" lists. */
export const STUCK_LEASE_STATES: ReadonlySet<LeaseState> = new Set(["stale", "expired", "permanent"]);

/** Leases a prune deletes without being told their ids. */
export const PRUNABLE_LEASE_STATES: ReadonlySet<LeaseState> = new Set(["stale", "expired"]);

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
} as const;
