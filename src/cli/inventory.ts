import type { Inventory } from "../inventory/types.js";
import { humanBytes, table } from "./format.js";

/** Why containerd did not answer, as the reader recorded it. */
export function downReason(inventory: Pick<Inventory, "collectors">): string {
  return inventory.collectors.find((c) => c.collector === "namespaces")?.errors[0] ?? "no answer";
}

/** `inventory` without --json: what was read, per namespace, in a few lines. */
export function renderInventory(inventory: Inventory): string {
  if (!inventory.up) return `containerd did not answer: ${downReason(inventory)}\n`;
  const version = inventory.containerd ? `${inventory.containerd.version} (${inventory.containerd.revision})` : "unknown version";
  const out = [`containerd ${version}; snapshotters: ${inventory.snapshotters.join(", ") || "none"}`, ""];
  const rows = inventory.namespaces.map((ns) => [
    ns.name,
    String(ns.leases.length),
    `${ns.content.length} (${humanBytes(ns.content.reduce((sum, b) => sum + b.size, 0))})`,
    `${ns.ingests.length} (${humanBytes(ns.ingests.reduce((sum, i) => sum + i.offset, 0))})`,
    `${ns.snapshots.length} (${humanBytes(ns.snapshots.reduce((sum, s) => sum + (s.usage?.size ?? 0), 0))})`,
    String(ns.images.length),
    String(ns.containers.length),
    ns.failed.length > 0 ? `read failed: ${ns.failed.join(", ")}` : "",
  ]);
  out.push(table(["NAMESPACE", "LEASES", "BLOBS", "INGESTS", "SNAPSHOTS", "IMAGES", "CONTAINERS", ""], rows));
  const failing = inventory.collectors.filter((c) => !c.success);
  for (const c of failing) out.push(`collector ${c.collector} failed: ${c.errors.join("; ")}`);
  out.push("", "Everything read, as JSON: inventory --json. What of it is reclaimable: df.");
  return `${out.join("\n")}\n`;
}
