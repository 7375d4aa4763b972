import * as grpc from "@grpc/grpc-js";
import { ContainerdError } from "../../containerd/errors.js";
import type { NamespaceCollector } from "./collector.js";

/**
 * The sandbox store. containerd 1.6 has none (the call is UNIMPLEMENTED): that
 * is an empty store, not a failed read, or no 1.6 namespace would ever be
 * classified.
 */
export const sandboxesCollector: NamespaceCollector<"sandboxes"> = {
  name: "sandboxes",
  async read(ctx, namespace) {
    try {
      return await ctx.client.listSandboxes(namespace, { deadline: ctx.deadline });
    } catch (error) {
      if (error instanceof ContainerdError && error.code === grpc.status.UNIMPLEMENTED) return [];
      throw error;
    }
  },
};
