import type { OwnerRule } from "./owner.js";
import { CRI_NAMESPACE } from "./owner.js";

/**
 * k3s (and rke2) air-gap image import. Evidence: k3s-io/k3s
 * pkg/agent/containerd/containerd.go: earlier releases held imported images'
 * blobs with a lease named after the program ("k3s", "rke2") in namespace
 * k8s.io that never expires; current releases delete it at start (clearLeases).
 */
const PROGRAMS = new Set(["k3s", "rke2"]);

export const k3sImport: OwnerRule = {
  owner: "k3s-import",
  keeps: true,
  matches: (lease, { namespace }) => namespace.name === CRI_NAMESPACE && PROGRAMS.has(lease.id),
};
