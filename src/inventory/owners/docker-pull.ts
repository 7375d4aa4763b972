import type { OwnerRule } from "./owner.js";

export const DOCKER_PRUNE_LABEL = "moby/prune.images";

/**
 * Docker >= 27.4's pulls, builds, commits and exports. Evidence: moby
 * daemon/containerd (the `moby/prune.images` label its lease options add,
 * moby/moby#48909 follow-ups); measured on 28.5.2: an 8 h lease with this label.
 */
export const dockerPull: OwnerRule = {
  owner: "docker-pull",
  keeps: false,
  matches: (lease) => DOCKER_PRUNE_LABEL in lease.labels,
};
