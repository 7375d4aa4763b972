import type { OwnerRule } from "./owner.js";

/**
 * A CRI pod sandbox. Evidence: containerd >= 2.1's CRI plugin records each pod
 * sandbox in the sandbox store and holds its resources with a lease named by
 * the sandbox id that never expires. The sandbox store is read alongside the
 * leases (containerd.services.sandbox.v1.Store/List), so the match is exact.
 */
export const criSandbox: OwnerRule = {
  owner: "cri-sandbox",
  keeps: true,
  matches: (lease, { namespace }) => namespace.sandboxes.some((s) => s.id === lease.id),
};
