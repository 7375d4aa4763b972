import type { CallOptions, ContainerdClient } from "../../containerd/client.js";
import type { Limiter } from "../../util/limit.js";
import type { NamespaceInventory, NamespacePart } from "../types.js";
import type { UsageCache } from "../usage-cache.js";

export interface ReadContext {
  client: ContainerdClient;
  /** Epoch milliseconds by which every call of this read must have answered. */
  deadline: number;
  /** What every call of this read passes: the deadline, and the read's shared strings. */
  calls: CallOptions;
  /** Snapshotter plugins that loaded. */
  snapshotters: string[];
  usageCache: UsageCache;
  /** Bounds the per-object calls (ListResources, Usage) of the whole read. */
  limit: Limiter;
}

/** Reads one part of a namespace's state. One file per collector, like node_exporter. */
export interface NamespaceCollector<P extends NamespacePart = NamespacePart> {
  readonly name: P;
  read(ctx: ReadContext, namespace: string): Promise<NamespaceInventory[P]>;
}
