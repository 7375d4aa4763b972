import { LABEL } from "../states.js";
import type { OwnerRule } from "./owner.js";

export const BUILDKIT_TEMPORARY_LABEL = "buildkit/lease.temporary";
export const BUILDKIT_HISTORY_NAMESPACE = "moby_history";

/**
 * BuildKit's cache records and temporary leases. Evidence: moby/buildkit
 * cache/manager.go and util/leaseutil (cache record leases `<id>`,
 * `<id>-view`, `<id>-variants` carry `containerd.io/gc.flat` and never
 * expire; `leaseutil.MakeTemporary` adds `buildkit/lease.temporary` with a 1 h
 * or 5 min expiry); build history lives in namespace `moby_history` (`ref_<id>`).
 */
export const buildkit: OwnerRule = {
  owner: "buildkit",
  keeps: true,
  matches: (lease, { namespace }) =>
    LABEL.flat in lease.labels || BUILDKIT_TEMPORARY_LABEL in lease.labels || namespace.name === BUILDKIT_HISTORY_NAMESPACE,
};
