import type { OwnerRule } from "./owner.js";

/**
 * containerd's own clients: ctr, nerdctl, the 2.x transfer service. Evidence:
 * the client's WithLease default and core/transfer/local (random id,
 * `containerd.io/gc.expire` = 24 h, no other label), in any namespace that is
 * not Docker's or the CRI plugin's (those rules come first).
 */
export const client: OwnerRule = {
  owner: "client",
  keeps: false,
  matches: (_lease, { neverExpires }) => !neverExpires,
};
