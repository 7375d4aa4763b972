import type { OwnerRule } from "./owner.js";
import { DOCKER_NAMESPACES } from "./owner.js";

const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * A Docker container's writable layer. Evidence: with the containerd image
 * store, every `docker create`/`run` leaves a lease whose id is the 64-hex
 * container id, with no labels and no expiry, holding the snapshots `<id>`
 * and `<id>-init` (measured on Docker 26.1.5 and 28.5.2). A created container
 * has no containerd container at all and a running one has an empty snapshot
 * key, so this lease is the only thing that keeps the layer.
 */
export const dockerContainer: OwnerRule = {
  owner: "docker-container",
  keeps: true,
  matches(lease, { namespace }) {
    if (!DOCKER_NAMESPACES.has(namespace.name) || !CONTAINER_ID.test(lease.id)) return false;
    const layers = new Set([lease.id, `${lease.id}-init`]);
    return lease.resources.some((r) => r.type.startsWith("snapshots/") && layers.has(r.id));
  },
};
