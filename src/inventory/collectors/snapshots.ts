import { ifFound } from "../../containerd/errors.js";
import type { SnapshotInfo, SnapshotUsage } from "../../containerd/types.js";
import type { SnapshotEntry } from "../types.js";
import type { NamespaceCollector, ReadContext } from "./collector.js";

/**
 * Snapshots of every loaded snapshotter, with their disk usage. Committed
 * snapshots are immutable, so their usage comes from the cache after the first
 * read; active ones (an unpack or a container's writable layer) change and are
 * measured on every scrape.
 */
export const snapshotsCollector: NamespaceCollector<"snapshots"> = {
  name: "snapshots",
  async read(ctx, namespace) {
    const perSnapshotter = await Promise.all(
      ctx.snapshotters.map((snapshotter) => readSnapshotter(ctx, namespace, snapshotter)),
    );
    return perSnapshotter.flat();
  },
};

async function readSnapshotter(ctx: ReadContext, namespace: string, snapshotter: string): Promise<SnapshotEntry[]> {
  const infos: SnapshotInfo[] = [];
  for await (const page of ctx.client.listSnapshotPages(namespace, snapshotter, { deadline: ctx.deadline })) {
    for (const info of page) infos.push(info);
  }
  // Committed snapshots measured before are answered from the cache right here; only the
  // others wait for a Usage call (one async task each, not one per snapshot).
  const entries: SnapshotEntry[] = new Array(infos.length);
  const pending: Promise<void>[] = [];
  infos.forEach((info, i) => {
    const cached = info.kind === "committed" ? ctx.usageCache.get(namespace, snapshotter, info.name, info.createdAt) : undefined;
    if (cached) entries[i] = { ...info, snapshotter, usage: cached };
    else pending.push(usageOf(ctx, namespace, snapshotter, info).then((usage) => void (entries[i] = { ...info, snapshotter, usage })));
  });
  await Promise.all(pending);
  return entries;
}

async function usageOf(
  ctx: ReadContext,
  namespace: string,
  snapshotter: string,
  info: SnapshotInfo,
): Promise<SnapshotUsage | null> {
  const immutable = info.kind === "committed";
  const cached = immutable ? ctx.usageCache.get(namespace, snapshotter, info.name, info.createdAt) : undefined;
  if (cached) return cached;
  const usage = await ctx.limit(() =>
    ifFound(ctx.client.snapshotUsage(namespace, snapshotter, info.name, { deadline: ctx.deadline })),
  );
  // Removed between List and Usage: it holds nothing any more.
  if (usage === undefined) return null;
  if (immutable) ctx.usageCache.set(namespace, snapshotter, info.name, info.createdAt, usage);
  return usage;
}
