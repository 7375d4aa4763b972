import { ifFound } from "../../containerd/errors.js";
import type { SnapshotRecord } from "../../containerd/types.js";
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
    return perSnapshotter.length === 1 ? (perSnapshotter[0] as SnapshotEntry[]) : perSnapshotter.flat();
  },
};

async function readSnapshotter(ctx: ReadContext, namespace: string, snapshotter: string): Promise<SnapshotEntry[]> {
  // The client's records become the entries: their usage is filled in place.
  const entries: SnapshotRecord[] = [];
  for await (const page of ctx.client.listSnapshotPages(namespace, snapshotter, ctx.calls)) {
    for (const record of page) entries.push(record);
  }
  // Committed snapshots measured before are answered from the cache right here; only the
  // others wait for a Usage call (one async task each, not one per snapshot).
  const pending: Promise<void>[] = [];
  for (const entry of entries) {
    const cached = entry.kind === "committed" ? ctx.usageCache.get(namespace, snapshotter, entry.name, entry.createdAt) : undefined;
    if (cached) entry.usage = cached;
    else pending.push(measure(ctx, namespace, entry));
  }
  await Promise.all(pending);
  return entries;
}

async function measure(ctx: ReadContext, namespace: string, entry: SnapshotRecord): Promise<void> {
  const { snapshotter, name } = entry;
  const usage = await ctx.limit(() => ifFound(ctx.client.snapshotUsage(namespace, snapshotter, name, ctx.calls)));
  // Removed between List and Usage: it holds nothing any more (usage stays null).
  if (usage === undefined) return;
  entry.usage = usage;
  if (entry.kind === "committed") ctx.usageCache.set(namespace, snapshotter, name, entry.createdAt, usage);
}
