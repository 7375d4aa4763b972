import type { LeaseEntry } from "../types.js";
import type { NamespaceCollector } from "./collector.js";

/** Leases and what each one holds: one ListResources call per lease. */
export const leasesCollector: NamespaceCollector<"leases"> = {
  name: "leases",
  async read(ctx, namespace) {
    const leases = await ctx.client.listLeases(namespace, ctx.calls);
    return Promise.all(
      leases.map(
        async (lease): Promise<LeaseEntry> => ({
          ...lease,
          resources: await ctx.limit(() => ctx.client.listLeaseResources(namespace, lease.id, ctx.calls)),
        }),
      ),
    );
  },
};
