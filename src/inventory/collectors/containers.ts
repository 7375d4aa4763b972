import type { NamespaceCollector } from "./collector.js";

export const containersCollector: NamespaceCollector<"containers"> = {
  name: "containers",
  read: (ctx, namespace) => ctx.client.listContainers(namespace, ctx.calls),
};
