import type { ContentInfo } from "../../containerd/types.js";
import type { NamespaceCollector } from "./collector.js";

/** Committed blobs of the namespace's content store. */
export const contentCollector: NamespaceCollector<"content"> = {
  name: "content",
  async read(ctx, namespace) {
    const blobs: ContentInfo[] = [];
    for await (const page of ctx.client.listContentPages(namespace, ctx.calls)) {
      for (const blob of page) blobs.push(blob);
    }
    return blobs;
  },
};
