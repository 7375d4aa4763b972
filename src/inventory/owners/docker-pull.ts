import type { OwnerRule } from "./owner.js";

export const DOCKER_PRUNE_LABEL = "moby/prune.images";

/**
 * Docker >= 27.4's pulls, builds, commits and exports. Evidence: Docker 27.4
 * labels its image leases `moby/prune.images=true` with an 8 h expiry, and its
 * image prune deletes them (moby/moby#53321); measured on 28.5.2: a cut
 * `docker pull` leaves exactly such a lease.
 */
export const dockerPull: OwnerRule = {
  owner: "docker-pull",
  keeps: false,
  matches: (lease) => DOCKER_PRUNE_LABEL in lease.labels,
};
