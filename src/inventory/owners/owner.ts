import type { LeaseEntry, NamespaceInventory } from "../types.js";

/** Who made a lease, as far as what containerd and its clients record can tell. */
export const OWNERS = [
  "docker-container",
  "docker-pull",
  "docker",
  "buildkit",
  "cri",
  "cri-sandbox",
  "k3s-import",
  "client",
  "unknown",
] as const;
export type Owner = (typeof OWNERS)[number];

/** Namespaces dockerd writes into (moby's daemon/containerd, plugins, BuildKit history). */
export const DOCKER_NAMESPACES: ReadonlySet<string> = new Set(["moby", "plugins.moby", "moby_history"]);

/** The CRI plugin's namespace (containerd's internal/cri constants). */
export const CRI_NAMESPACE = "k8s.io";

/** What a rule may look at besides the lease: the namespace it lives in, read in the same pass. */
export interface OwnerContext {
  namespace: NamespaceInventory;
  /** The lease never expires (no gc.expire containerd can parse). */
  neverExpires: boolean;
}

/**
 * One owner's recognition rule, like a node_exporter collector: a name, a
 * predicate over the namespace inventory, and whether a lease of this owner
 * that never expires is working as intended (`keeps`: a container's layer,
 * a cache, a sandbox) rather than leaked.
 */
export interface OwnerRule {
  readonly owner: Owner;
  readonly keeps: boolean;
  matches(lease: LeaseEntry, ctx: OwnerContext): boolean;
}
