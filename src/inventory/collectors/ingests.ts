import type { NamespaceCollector } from "./collector.js";

/** Ingests: downloads (or other writes) into the content store that never finished. */
export const ingestsCollector: NamespaceCollector<"ingests"> = {
  name: "ingests",
  read: (ctx, namespace) => ctx.client.listIngests(namespace, ctx.calls),
};
