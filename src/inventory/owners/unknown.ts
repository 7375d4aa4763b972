import type { OwnerRule } from "./owner.js";

/** Nothing recognised it: a lease that never expires and belongs to no one is leaked. */
export const unknown: OwnerRule = {
  owner: "unknown",
  keeps: false,
  matches: () => true,
};
