import type { OwnerRule } from "./owner.js";
import { DOCKER_NAMESPACES } from "./owner.js";

/**
 * Other Docker leases that expire: `docker load`/`import`, pulls before 27.4.
 * Evidence: measured on Docker 26.1.5 (pull, load) and 28.5.2 (load): a random
 * id and only `containerd.io/gc.expire` (24 h) in namespace moby. A Docker
 * lease that never expires and is not a container's is not claimed here: no
 * Docker operation keeps one on purpose (the `docker save` lease of 26.x is a leak).
 */
export const docker: OwnerRule = {
  owner: "docker",
  keeps: false,
  matches: (lease, { namespace, neverExpires }) => DOCKER_NAMESPACES.has(namespace.name) && !neverExpires,
};
