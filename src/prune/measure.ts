import type { ByResource, ClassifiedInventory } from "../inventory/classify.js";
import { STORE_RESOURCES } from "../inventory/states.js";

export type Bytes = ByResource & { total: number };

/**
 * What a prune gave back, told apart from what the store did meanwhile.
 * `reclaimed` is the bytes of the objects that were there before and are gone
 * after (blobs by digest, snapshots by snapshotter and key, ingests by ref),
 * so a pull running during the prune cannot make it negative; `drift` is the
 * rest of the change of the store totals (what others added or grew).
 */
export type Measurement =
  | { ok: true; after: ByResource; reclaimed: Bytes; drift: Bytes }
  | { ok: false; error: string };

export const withTotal = (bytes: ByResource): Bytes => ({
  ...bytes,
  total: STORE_RESOURCES.reduce((sum, r) => sum + bytes[r], 0),
});

const key = (...parts: string[]) => parts.join("\u0000");

/** Every object of the store with its bytes, keyed so that "still there" is a lookup. */
function objects(classified: ClassifiedInventory, include: (ns: string) => boolean): Record<keyof ByResource, Map<string, number>> {
  const found = { content: new Map<string, number>(), snapshot: new Map<string, number>(), ingest: new Map<string, number>() };
  for (const ns of classified.namespaces) {
    if (!include(ns.name)) continue;
    // Blob data is shared by namespaces: a digest is gone only when no namespace has it.
    for (const blob of ns.content) found.content.set(blob.digest, blob.size);
    for (const snap of ns.snapshots) found.snapshot.set(key(ns.name, snap.snapshotter, snap.name), snap.usage?.size ?? 0);
    for (const ingest of ns.ingests) found.ingest.set(key(ns.name, ingest.ref), ingest.offset);
  }
  return found;
}

/**
 * Why the read after the prune cannot be compared with the one before, or
 * undefined. A namespace read completely before must be read completely after;
 * one that failed both times was left alone by the prune (skippedNamespaces)
 * and is left out of the comparison.
 */
function unusable(before: ClassifiedInventory, after: ClassifiedInventory): string | undefined {
  if (!after.inventory.up) return "containerd did not answer the read after the prune";
  const completeBefore = new Set(before.namespaces.filter((ns) => ns.complete).map((ns) => ns.name));
  const incomplete = after.namespaces.filter((ns) => !ns.complete && completeBefore.has(ns.name));
  if (incomplete.length === 0) return undefined;
  const errors = after.inventory.collectors.flatMap((c) => c.errors);
  return (
    `namespace${incomplete.length > 1 ? "s" : ""} ${incomplete.map((ns) => ns.name).join(", ")} not read completely after the prune` +
    (errors.length ? `: ${errors[0]}` : "")
  );
}

export function measure(before: ClassifiedInventory, after: ClassifiedInventory): Measurement {
  const error = unusable(before, after);
  if (error) return { ok: false, error };
  // Only namespaces read completely both times are compared (a partial list is no proof of absence).
  const complete = (c: ClassifiedInventory) => new Set(c.namespaces.filter((ns) => ns.complete).map((ns) => ns.name));
  const [completeBefore, completeAfter] = [complete(before), complete(after)];
  const was = objects(before, (ns) => completeBefore.has(ns) && (completeAfter.has(ns) || !after.namespaces.some((n) => n.name === ns)));
  const now = objects(after, () => true);
  const reclaimed: ByResource = { content: 0, snapshot: 0, ingest: 0 };
  for (const resource of STORE_RESOURCES) {
    for (const [id, bytes] of was[resource]) if (!now[resource].has(id)) reclaimed[resource] += bytes;
  }
  const drift: ByResource = { content: 0, snapshot: 0, ingest: 0 };
  for (const resource of STORE_RESOURCES) {
    drift[resource] = after.store[resource] - (before.store[resource] - reclaimed[resource]);
  }
  return { ok: true, after: after.store, reclaimed: withTotal(reclaimed), drift: withTotal(drift) };
}
