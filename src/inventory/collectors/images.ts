import type { NamespaceCollector } from "./collector.js";

export const imagesCollector: NamespaceCollector<"images"> = {
  name: "images",
  read: (ctx, namespace) => ctx.client.listImages(namespace, ctx.calls),
};
