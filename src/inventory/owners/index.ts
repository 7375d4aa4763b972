import { leaseExpiry } from "../lease-state.js";
import type { LeaseEntry, NamespaceInventory } from "../types.js";
import { buildkit } from "./buildkit.js";
import { client } from "./client.js";
import { criSandbox } from "./cri-sandbox.js";
import { cri } from "./cri.js";
import { dockerContainer } from "./docker-container.js";
import { dockerPull } from "./docker-pull.js";
import { docker } from "./docker.js";
import { k3sImport } from "./k3s-import.js";
import type { Owner, OwnerRule } from "./owner.js";
import { unknown } from "./unknown.js";

export { DOCKER_NAMESPACES, OWNERS, type Owner, type OwnerRule } from "./owner.js";

/**
 * Registered in priority order: the first rule that matches names the owner.
 * Specific evidence (a container's layer, a sandbox id, a program's lease id,
 * BuildKit's labels, Docker's prune label) comes before the namespace-wide
 * rules, and `unknown` catches the rest.
 */
export const OWNER_RULES: readonly OwnerRule[] = [
  dockerContainer,
  criSandbox,
  k3sImport,
  buildkit,
  dockerPull,
  docker,
  cri,
  client,
  unknown,
];

const RULE_OF = new Map(OWNER_RULES.map((r) => [r.owner, r]));

export function ownerOf(lease: LeaseEntry, namespace: NamespaceInventory): Owner {
  const ctx = { namespace, neverExpires: leaseExpiry(lease.labels) === null };
  return (OWNER_RULES.find((rule) => rule.matches(lease, ctx)) ?? unknown).owner;
}

/** The owner keeps its leases on purpose: one that never expires is owned, not leaked. */
export function ownerKeeps(owner: Owner): boolean {
  return RULE_OF.get(owner)?.keeps ?? false;
}
