import { ifFound } from "../../containerd/errors.js";
import type { LeaseEntry } from "../types.js";
import type { NamespaceCollector } from "./collector.js";

/**
 * Leases and what each one holds: one ListResources call per lease. A lease
 * deleted between the list and its ListResources (BuildKit drops temporary
 * leases all through a build) is gone, not a failed read: it is left out.
 */
export const leasesCollector: NamespaceCollector<"leases"> = {
  name: "leases",
  async read(ctx, namespace) {
    const leases = await ctx.client.listLeases(namespace, ctx.calls);
    const read = await Promise.all(
      leases.map(async (lease): Promise<LeaseEntry | undefined> => {
        const resources = await ctx.limit(() => ifFound(ctx.client.listLeaseResources(namespace, lease.id, ctx.calls)));
        return resources && { ...lease, resources };
      }),
    );
    return read.filter((lease): lease is LeaseEntry => lease !== undefined);
  },
};
