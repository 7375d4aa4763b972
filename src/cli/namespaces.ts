import type { ContainerdClient } from "../containerd/client.js";

/**
 * --containerd.namespaces names that containerd does not have, as a message
 * that lists the ones it does; undefined when all exist, none were chosen, or
 * containerd cannot be asked (the read itself reports that).
 */
export async function missingNamespaces(
  client: ContainerdClient,
  selected: readonly string[],
  deadline: number,
  source = "--containerd.namespaces",
): Promise<string | undefined> {
  if (selected.length === 0) return undefined;
  let existing: string[];
  try {
    existing = await client.listNamespaces({ deadline });
  } catch {
    return undefined;
  }
  const missing = selected.filter((ns) => !existing.includes(ns));
  if (missing.length === 0) return undefined;
  const names = missing.map((ns) => JSON.stringify(ns)).join(", ");
  const have = existing.length > 0 ? existing.join(", ") : "none";
  return `${source}: containerd at ${client.socketPath} has no namespace ${names}; it has: ${have}`;
}
